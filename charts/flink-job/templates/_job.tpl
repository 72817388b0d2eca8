{{/* The job's id: fixed per release and namespace, so a restarted JobManager resumes the same job. */}}
{{- define "flinkjob.jobId" -}}
{{- default (printf "%s/%s" .Release.Namespace .Release.Name | sha256sum | trunc 32) .Values.job.jobId -}}
{{- end -}}

{{- define "flinkjob.args" -}}
{{- $a := list "standalone-job" "--job-classname" .Values.job.entryClass "--job-id" (include "flinkjob.jobId" .) -}}
{{- with .Values.job.fromSavepoint -}}
{{- $a = concat $a (list "--fromSavepoint" .) -}}
{{- end -}}
{{- if .Values.job.allowNonRestoredState -}}
{{- $a = append $a "--allowNonRestoredState" -}}
{{- end -}}
{{- $a = concat $a (include "flink.haArgs" . | fromYamlArray) -}}
{{- /* The job's own arguments reach it as written: Kubernetes expands $(NAME) in container args
     ($$ is its escape), so every $ is doubled. */ -}}
{{- range .Values.job.args -}}
{{- $a = append $a (toString . | replace "$" "$$") -}}
{{- end -}}
{{- toYaml $a -}}
{{- end -}}
