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
app.kubernetes.io/instance: {{ .Release.Name }}
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

{{- define "flink.jobmanagerName" -}}{{ include "flink.fullname" . }}-jobmanager{{- end -}}
{{- define "flink.taskmanagerName" -}}{{ include "flink.fullname" . }}-taskmanager{{- end -}}
{{- define "flink.restServiceName" -}}{{ include "flink.fullname" . }}-rest{{- end -}}
{{- define "flink.configName" -}}{{ include "flink.fullname" . }}-config{{- end -}}
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
