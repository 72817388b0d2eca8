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
{{- $a = concat $a (default list .Values.job.args) -}}
{{- toYaml $a -}}
{{- end -}}

{{/* The JobManager Job's pod template (its hash names the Job). */}}
{{- define "flinkjob.jobmanagerTemplate" -}}
metadata:
  labels:
    {{- include "flink.podLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  annotations:
    {{- include "flink.podAnnotations" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
spec:
  {{- $jar := include "flink.jarPieces" . | fromYaml }}
  {{- include "flink.podSpec" (dict "ctx" . "component" "jobmanager" "restartPolicy" "OnFailure" "args" (include "flinkjob.args" . | fromYamlArray) "initContainers" $jar.initContainers "extraVolumes" $jar.volumes "extraMounts" $jar.mounts) | nindent 2 }}
{{- end -}}
