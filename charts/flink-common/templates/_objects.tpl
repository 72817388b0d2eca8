{{/* Whole objects both charts render the same way. */}}

{{- define "flink.services" -}}
{{/* Headless-free ClusterIP service the TaskManagers reach the JobManager through (rpc, blob). */}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flink.jobmanagerName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  ports:
    - {name: rpc, port: 6123, targetPort: rpc}
    - {name: blob, port: 6124, targetPort: blob}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flink.restServiceName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  {{- with .Values.jobmanager.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.jobmanager.service.type }}
  selector:
    {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  ports:
    - name: http
      port: 8081
      targetPort: http
      {{- if and (eq .Values.jobmanager.service.type "NodePort") .Values.jobmanager.service.nodePort }}
      nodePort: {{ .Values.jobmanager.service.nodePort }}
      {{- end }}
{{- end -}}

{{- define "flink.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "flink.serviceAccountName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.highAvailability.enabled }}
{{- end -}}
{{- end -}}

{{/* Kubernetes HA keeps leader and job state in ConfigMaps: the pods may touch configmaps only. */}}
{{- define "flink.haRbac" -}}
{{- if .Values.highAvailability.enabled -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "flink.fullname" . }}-ha
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "flink.fullname" . }}-ha
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "flink.fullname" . }}-ha
subjects:
  - kind: ServiceAccount
    name: {{ include "flink.serviceAccountName" . }}
    namespace: {{ .Release.Namespace | toYaml }}
{{- end -}}
{{- end -}}

{{- define "flink.ingress" -}}
{{- if .Values.ingress.enabled -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "flink.fullname" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with .Values.ingress.tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    - {{- with .Values.ingress.host }}
      host: {{ . | quote }}
      {{- end }}
      http:
        paths:
          - path: {{ .Values.ingress.path }}
            pathType: {{ .Values.ingress.pathType }}
            backend:
              service:
                name: {{ include "flink.restServiceName" . }}
                port: {name: http}
{{- end -}}
{{- end -}}

{{- define "flink.podMonitorWanted" -}}
{{- if and .Values.metrics.enabled .Values.metrics.podMonitor.enabled -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PodMonitor" -}}yes{{- else -}}no-api{{- end -}}
{{- end -}}
{{- end -}}

{{- define "flink.monitors" -}}
{{- if eq (include "flink.podMonitorWanted" .) "yes" -}}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ include "flink.fullname" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
    {{- with .Values.metrics.podMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "flink.selectorLabels" . | nindent 6 }}
  podMetricsEndpoints:
    - port: metrics
      interval: {{ .Values.metrics.podMonitor.interval }}
{{- end -}}
{{- end -}}

{{- define "flink.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "flink.taskmanagerName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "taskmanager") | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "taskmanager") | nindent 6 }}
{{- end -}}
{{- end -}}

{{- define "flink.notes" -}}
Flink {{ include "flink.version" . }} — release {{ .Release.Name }} in namespace {{ .Release.Namespace }}.

The Flink UI and REST API:
  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ include "flink.restServiceName" . }} 8081:8081
  then open http://localhost:8081
{{- if .Values.ingress.enabled }}
  or http{{ if .Values.ingress.tls }}s{{ end }}://{{ .Values.ingress.host }}{{ .Values.ingress.path }}
{{- end }}
{{- if include "flink.native" . }}

Native Kubernetes mode: the JobManager (Deployment {{ include "flink.jobmanagerName" . }}) creates the TaskManager pods as jobs need slots:
  kubectl -n {{ .Release.Namespace }} get pods -l {{ printf "type=flink-native-kubernetes,component=taskmanager,app=%s" (include "flink.clusterId" .) }}
{{- end }}
{{- if .Values.metrics.enabled }}

Prometheus metrics: port {{ .Values.metrics.port }} (named "metrics") on every Flink pod.
{{- if eq (include "flink.podMonitorWanted" .) "no-api" }}
WARNING: metrics.podMonitor.enabled is set, but this cluster serves no monitoring.coreos.com/v1
PodMonitor (prometheus-operator CRDs): no PodMonitor was created.
{{- end }}
{{- end }}
{{- end -}}

{{/* Flink keeps Kubernetes HA data in ConfigMaps without owner references, so `helm uninstall`
     would leave them: a post-delete hook deletes them, with an account that may do only that. */}}
{{- define "flink.haCleanup" -}}
{{- if and .Values.highAvailability.enabled .Values.highAvailability.cleanup.enabled -}}
{{- $name := printf "%s-ha-cleanup" (include "flink.fullname" .) -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-delete
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-delete
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [list, delete, deletecollection]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-delete
    helm.sh/hook-weight: "-9"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .Release.Namespace | toYaml }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-delete
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 3
  ttlSecondsAfterFinished: 300
  template:
    metadata:
      labels:
        {{- include "flink.stablePodLabels" (dict "ctx" . "component" "ha-cleanup") | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      restartPolicy: Never
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: cleanup
          image: {{ .Values.highAvailability.cleanup.image | quote }}
          command:
            - kubectl
            - delete
            - configmaps
            - --namespace={{ .Release.Namespace }}
            {{- /* Flink 2 labels its HA ConfigMaps app and type only (1.x adds configmap-type). */}}
            {{- if semverCompare ">=2.0.0-0" (regexReplaceAll "^([0-9]+\\.[0-9]+)$" (include "flink.version" .) "${1}.0") }}
            - --selector=app={{ include "flink.clusterId" . }},type=flink-native-kubernetes
            {{- else }}
            - --selector=app={{ include "flink.clusterId" . }},configmap-type=high-availability
            {{- end }}
            - --ignore-not-found
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 128Mi}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
{{- end -}}
{{- end -}}


{{/* The claim persistence mounts on every Flink pod (unless an existing one is named); kept on
     uninstall by default, as it holds the savepoints a reinstall starts from. */}}
{{- define "flink.persistentVolumeClaim" -}}
{{- if and .Values.persistence.enabled (not .Values.persistence.existingClaim) -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "flink.dataClaimName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  {{- if .Values.persistence.keepOnUninstall }}
  annotations:
    helm.sh/resource-policy: keep
  {{- end }}
spec:
  accessModes:
    {{- toYaml .Values.persistence.accessModes | nindent 4 }}
  {{- with .Values.persistence.storageClass }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .Values.persistence.size }}
{{- end -}}
{{- end -}}

{{/* Native mode: what the JobManager's resource manager does through the API, in its namespace
     only — create, watch and delete its TaskManager pods, and read its own Deployment (the owner
     it gives them, so that they go with it). */}}
{{- define "flink.nativeRbac" -}}
{{- if include "flink.native" . -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "flink.fullname" . }}-native
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [create, delete, get, list, watch, patch]
  - apiGroups: [apps]
    resources: [deployments]
    resourceNames: [{{ include "flink.jobmanagerName" . }}]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "flink.fullname" . }}-native
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "flink.fullname" . }}-native
subjects:
  - kind: ServiceAccount
    name: {{ include "flink.serviceAccountName" . }}
    namespace: {{ .Release.Namespace | toYaml }}
{{- end -}}
{{- end -}}

{{/* Native mode: the TaskManager pods belong to the JobManager that created them, not to a
     workload of the release, so an upgrade or rollback that replaces the JobManager (another
     configuration or TaskManager pod template) would leave them to the new one, running the
     previous template. Post-upgrade/rollback hooks wait until the previous JobManager pods (another
     taskmanager-template hash) are gone, then delete the TaskManager pods of another hash; the new
     JobManager creates its own. Nothing to do when the hash did not change. */}}
{{- define "flink.nativeRetire" -}}
{{- if include "flink.native" . -}}
{{- $name := printf "%s-native-retire" (include "flink.fullname" .) -}}
{{- $hash := include "flink.taskmanagerTemplateHash" . -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-upgrade,post-rollback
    helm.sh/hook-weight: "-20"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-upgrade,post-rollback
    helm.sh/hook-weight: "-20"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch, delete, deletecollection]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: post-upgrade,post-rollback
    helm.sh/hook-weight: "-19"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .Release.Namespace | toYaml }}
{{- range $i, $step := list "wait" "delete" }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $name }}-{{ $step }}
  namespace: {{ $.Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" $ | nindent 4 }}
  annotations:
    helm.sh/hook: post-upgrade,post-rollback
    helm.sh/hook-weight: {{ add -18 $i | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 3
  ttlSecondsAfterFinished: 300
  template:
    metadata:
      labels:
        {{- include "flink.stablePodLabels" (dict "ctx" $ "component" "native-retire") | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      restartPolicy: Never
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $step }}
          image: {{ $.Values.highAvailability.cleanup.image | quote }}
          command:
            - kubectl
            {{- if eq $step "wait" }}
            - wait
            - --for=delete
            - pods
            - --namespace={{ $.Release.Namespace }}
            - --selector={{ include "flink.componentSelectorLabels" (dict "ctx" $ "component" "jobmanager") | replace ": " "=" | replace "\n" "," | replace "\"" "" }},helm-flink.dev/taskmanager-template!={{ $hash }}
            - --timeout=300s
            {{- else }}
            - delete
            - pods
            - --namespace={{ $.Release.Namespace }}
            - --selector=app={{ include "flink.clusterId" $ }},component=taskmanager,type=flink-native-kubernetes,helm-flink.dev/taskmanager-template!={{ $hash }}
            - --ignore-not-found
            - --wait=false
            {{- end }}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 128Mi}
          securityContext:
            {{- toYaml $.Values.securityContext | nindent 12 }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Native mode: checks Flink's constraints on the cluster id, which names the JobManager
     Deployment, the Services, the ConfigMap and (with -taskmanager-<attempt>-<n>) the TaskManager pods. */}}
{{- define "flink.checkNative" -}}
{{- if include "flink.native" . -}}
{{- $id := include "flink.clusterId" . -}}
{{- if gt (len $id) 45 -}}
{{- fail (printf "mode native: the cluster id %q (highAvailability.clusterId, else the release's full name) is longer than Flink's 45 characters: set highAvailability.clusterId or fullnameOverride" $id) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $id) -}}
{{- fail (printf "mode native: the cluster id %q is not a DNS label: lowercase letters, digits and '-'" $id) -}}
{{- end -}}
{{- end -}}
{{- end -}}
