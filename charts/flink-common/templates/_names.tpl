{{/* Names and labels: every object of both charts takes them from here. */}}

{{- define "flink.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flink.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains (include "flink.name" .) .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "flink.name" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flink.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flink.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flink.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | toYaml }}
{{- end -}}

{{- define "flink.labels" -}}
helm.sh/chart: {{ include "flink.chart" . }}
{{ include "flink.selectorLabels" . }}
app.kubernetes.io/version: {{ include "flink.version" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flink
{{- end -}}

{{/* (dict "ctx" $ "component" "jobmanager") */}}
{{- define "flink.componentSelectorLabels" -}}
{{ include "flink.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "flink.componentLabels" -}}
{{ include "flink.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* "true" in Flink's native Kubernetes mode (mode: native): the JobManager creates and deletes
     the TaskManager pods itself, and finds its objects by the names Flink gives them. */}}
{{- define "flink.native" -}}{{ if eq (toString .Values.mode) "native" }}true{{ end }}{{- end -}}

{{/* In native mode Flink names them after kubernetes.cluster-id: the JobManager Deployment (which
     owns the TaskManager pods) and the internal Service are <cluster-id>, the REST Service
     <cluster-id>-rest, the configuration ConfigMap flink-config-<cluster-id>. */}}
{{- define "flink.jobmanagerName" -}}
{{- if include "flink.native" . -}}{{ include "flink.clusterId" . }}{{- else -}}{{ include "flink.fullname" . }}-jobmanager{{- end -}}
{{- end -}}
{{/* "true" when the JobManagers of a standalone HA session need names other pods resolve: Flink
     2.x hands out its blob server's address as the leader's host name (InetAddress.getLocalHost()
     under a wildcard bind), which a standby JobManager connects to when it runs a jar for the
     leader. They are then a StatefulSet, whose pods are <set>-<n> in the headless Service's
     DNS domain, which their resolver searches. */}}
{{- define "flink.jobmanagerPodsResolvable" -}}
{{- if and .Values.highAvailability.enabled (not (include "flink.native" .)) (not (hasKey .Values "job")) }}true{{ end -}}
{{- end -}}
{{/* The StatefulSet's name: at most 52 characters (its pods' controller-revision-hash label
     adds 11 to it), the JobManager name for a full name of 41 or less. */}}
{{- define "flink.jobmanagerSetName" -}}{{ include "flink.fullname" . | trunc 41 | trimSuffix "-" }}-jobmanager{{- end -}}
{{- define "flink.jobmanagerPodsServiceName" -}}{{ include "flink.jobmanagerSetName" . }}-pods{{- end -}}
{{/* The JobManager's workload as kubectl names it (kind/name): the StatefulSet of a standalone HA
     session, else the Deployment. */}}
{{- define "flink.jobmanagerWorkload" -}}
{{- if include "flink.jobmanagerPodsResolvable" . -}}
statefulset/{{ include "flink.jobmanagerSetName" . }}
{{- else -}}
deployment/{{ include "flink.jobmanagerName" . }}
{{- end -}}
{{- end -}}
{{/* The full name and a suffix within max characters (default 63, a Job's: its pods carry its
     name as a label; 52 for a CronJob, whose Jobs add 11): the full name is cut to fit, so a
     long release name still makes names the API server takes. (dict "ctx" $ "suffix" "-x" "max" n) */}}
{{- define "flink.boundedName" -}}
{{- $keep := sub (.max | default 63) (len .suffix) -}}
{{- printf "%s%s" (include "flink.fullname" .ctx | trunc (int $keep) | trimSuffix "-") .suffix -}}
{{- end -}}
{{/* The job a release defines, as annotations of its JobManager workload: `helm flink list`
     judges health by them without reading every release (the plugin's act.OwnJobIDAnnotation and
     act.OwnJobNameAnnotation). (dict "id" "…" "name" "…"), either may be "". */}}
{{- define "flink.ownJobAnnotations" -}}
{{- $a := dict -}}
{{- with .id }}{{ $_ := set $a "helm-flink.dev/job-id" . }}{{ end -}}
{{- with .name }}{{ $_ := set $a "helm-flink.dev/job-name" . }}{{ end -}}
{{- with $a }}{{ toYaml . }}{{ end -}}
{{- end -}}
{{- define "flink.jobmanagerPodsDomain" -}}
{{- printf "%s.%s.svc.%s" (include "flink.jobmanagerPodsServiceName" .) .Release.Namespace (.Values.clusterDomain | default "cluster.local") -}}
{{- end -}}
{{/* The release's savepoint record: one ConfigMap, an entry per savepoint against the Helm
     revision it belongs to, written by `helm flink` and the charts' hooks alike (the plugin's
     savepoint.Name; charts/submit_test.go holds them to one name). Not part of the release. */}}
{{- define "flink.savepointRecordName" -}}{{ .Release.Name }}-flink-savepoints{{- end -}}
{{/* The release's jobs record: one ConfigMap, an entry per job submitted to a session, written
     by `helm flink` (jobs run from kept jars) and the session chart's submit hook (its job)
     alike (the plugin's savepoint.JobsName). Not part of the release. */}}
{{- define "flink.jobsRecordName" -}}{{ .Release.Name }}-flink-jobs{{- end -}}
{{- define "flink.taskmanagerName" -}}{{ include "flink.fullname" . }}-taskmanager{{- end -}}
{{- define "flink.restServiceName" -}}
{{- if include "flink.native" . -}}{{ include "flink.clusterId" . }}-rest{{- else -}}{{ include "flink.fullname" . }}-rest{{- end -}}
{{- end -}}
{{- define "flink.configName" -}}
{{- if include "flink.native" . -}}flink-config-{{ include "flink.clusterId" . }}{{- else -}}{{ include "flink.fullname" . }}-config{{- end -}}
{{- end -}}
{{- define "flink.dataClaimName" -}}{{ default (printf "%s-data" (include "flink.fullname" .)) .Values.persistence.existingClaim }}{{- end -}}

{{- define "flink.clusterId" -}}
{{- default (include "flink.fullname" .) .Values.highAvailability.clusterId -}}
{{- end -}}

{{- define "flink.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "flink.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
