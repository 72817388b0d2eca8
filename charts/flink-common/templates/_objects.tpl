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
  {{- if gt (int (include "flink.jobmanagerReplicas" .)) 1 }}
  {{- /* A jar uploaded to one JobManager is on its disk only: its run must reach the same one. */}}
  sessionAffinity: ClientIP
  {{- end }}
  selector:
    {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  ports:
    - name: http
      port: 8081
      targetPort: http
      {{- if and (eq .Values.jobmanager.service.type "NodePort") .Values.jobmanager.service.nodePort }}
      nodePort: {{ .Values.jobmanager.service.nodePort }}
      {{- end }}
{{- if include "flink.jobmanagerPodsResolvable" . }}
---
{{- /* The JobManager pods' DNS names, ready or not (a standby is not ready to serve REST). */}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flink.jobmanagerPodsServiceName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  ports:
    - {name: blob, port: 6124, targetPort: blob}
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
{{- if and .Values.podDisruptionBudget.enabled (gt (int (include "flink.jobmanagerReplicas" .)) 1) }}
---
{{- /* HA JobManagers: a drain takes one at a time, so a standby is always there to lead. */}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "flink.fullname" . }}-jobmanager
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "jobmanager") | nindent 6 }}
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

{{ include "flink.requestNotes" . }}
{{ include "flink.networkNotes" . }}
{{- include "flink.storageNotes" . }}
{{- if .Values.metrics.enabled }}

Prometheus metrics: port {{ .Values.metrics.port }} (named "metrics") on every Flink pod.
{{- if eq (include "flink.podMonitorWanted" .) "no-api" }}
WARNING: metrics.podMonitor.enabled is set, but this cluster serves no monitoring.coreos.com/v1
PodMonitor (prometheus-operator CRDs): no PodMonitor was created.
{{- end }}
{{- end }}
{{- end -}}

{{/* Ingress to the release's pods: from each other on any port (native TaskManagers are
     Flink's pods, their ports Flink's choice), to REST and metrics from the peers the values name.
     The port-forward reaches a pod inside its network namespace, the kubelet's probes come from
     the node: a NetworkPolicy stops neither. */}}
{{- define "flink.networkPolicy" -}}
{{- $np := .Values.networkPolicy -}}
{{- if $np.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "flink.fullname" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "flink.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              {{- include "flink.selectorLabels" . | nindent 14 }}
    {{- with include "flink.networkPeers" $np.rest | trim }}
    - from:
        {{- . | nindent 8 }}
      ports:
        - {port: http, protocol: TCP}
    {{- end }}
    {{- if .Values.metrics.enabled }}
    {{- with include "flink.networkPeers" $np.metrics | trim }}
    - from:
        {{- . | nindent 8 }}
      ports:
        - {port: metrics, protocol: TCP}
    {{- end }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/* NetworkPolicy peers of networkPolicy.rest or .metrics: its namespaces by name, then its from. */}}
{{- define "flink.networkPeers" -}}
{{- range .namespaces }}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ . | toYaml }}
{{- end }}
{{- with .from }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What the NetworkPolicy lets in, and what it keeps out that the values turn on. */}}
{{- define "flink.networkNotes" -}}
{{- $np := .Values.networkPolicy -}}
{{- if $np.enabled }}
NetworkPolicy {{ include "flink.fullname" . }}: only this release's pods reach the Flink pods
{{- with $np.rest.namespaces }}; pods in {{ join ", " . }} also the REST API{{ end }}
{{- if and .Values.metrics.enabled $np.metrics.namespaces }}; pods in {{ join ", " $np.metrics.namespaces }} also the metrics port{{ end }}.
`helm flink` and port-forwards are not affected (networkPolicy.* in the values).
{{- if and .Values.ingress.enabled (not (or $np.rest.namespaces $np.rest.from)) }}
WARNING: ingress.enabled is set, but networkPolicy.rest names no namespace: the Ingress controller
cannot reach the REST API until its namespace is in networkPolicy.rest.namespaces.
{{- end }}
{{- if and .Values.metrics.enabled (not (or $np.metrics.namespaces $np.metrics.from)) }}
WARNING: metrics.enabled is set, but networkPolicy.metrics names no namespace: Prometheus cannot
scrape the Flink pods until its namespace is in networkPolicy.metrics.namespaces.
{{- end }}
{{- else }}
No NetworkPolicy (networkPolicy.enabled=false): any pod in the cluster can reach the REST API,
which runs any jar it is sent.
{{- end }}
{{- end -}}

{{/* JobManager pods: standbys only with HA (without it a second JobManager would lead a cluster
     of its own); flink-job runs one. */}}
{{- define "flink.jobmanagerReplicas" -}}
{{- if and .Values.highAvailability.enabled (hasKey .Values.jobmanager "replicas") -}}
{{- .Values.jobmanager.replicas -}}
{{- else -}}
1
{{- end -}}
{{- end -}}

{{/* What a component's Flink container requests, in millicores and MiB: (dict "ctx" $ "component" …).
     Kubernetes takes the limits as requests where resources give only limits. */}}
{{- define "flink.containerRequests" -}}
{{- $r := include "flink.resources" . | fromYaml -}}
{{- $cpu := dig "requests" "cpu" (dig "limits" "cpu" "0" $r) $r -}}
{{- $mem := dig "requests" "memory" (dig "limits" "memory" "0" $r) $r -}}
{{- toYaml (dict "milliCPU" (include "flink.milliCPU" $cpu | int) "mebibytes" (include "flink.mebibytes" $mem | int)) -}}
{{- end -}}

{{/* A Kubernetes CPU quantity (1, 0.5, 500m) in millicores. */}}
{{- define "flink.milliCPU" -}}
{{- $s := toString . -}}
{{- if hasSuffix "m" $s -}}
{{- trimSuffix "m" $s | float64 | ceil | int -}}
{{- else -}}
{{- mulf ($s | float64) 1000 | ceil | int -}}
{{- end -}}
{{- end -}}

{{/* A Kubernetes memory quantity (1600Mi, 2Gi, 2G, bytes) in MiB, rounded up. */}}
{{- define "flink.mebibytes" -}}
{{- $s := toString . -}}
{{- $n := regexFind "^[0-9]+(\\.[0-9]+)?" $s -}}
{{- $units := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 -}}
{{- $unit := trimPrefix $n $s -}}
{{- divf (mulf ($n | float64) (get $units $unit | default 0 | float64)) 1048576 | ceil | int -}}
{{- end -}}

{{/* What the release's Flink containers request, for the NOTES: a 2-CPU node should see it at a
     glance. In native mode Flink creates the TaskManager pods: those it keeps
     (native.minTaskManagers) are counted, and each one a job needs adds the same. */}}
{{- define "flink.requestNotes" -}}
{{- $jm := include "flink.containerRequests" (dict "ctx" . "component" "jobmanager") | fromYaml -}}
{{- $tm := include "flink.containerRequests" (dict "ctx" . "component" "taskmanager") | fromYaml -}}
{{- $jms := include "flink.jobmanagerReplicas" . | int -}}
{{- $tms := int .Values.taskmanager.replicas -}}
{{- if include "flink.native" . -}}
{{- $tms = int .Values.native.minTaskManagers -}}
{{- end -}}
{{- $cpu := add (mul $jms $jm.milliCPU) (mul $tms $tm.milliCPU) -}}
{{- $mem := add (mul $jms $jm.mebibytes) (mul $tms $tm.mebibytes) -}}
The Flink containers request CPU {{ divf $cpu 1000 }} and memory {{ $mem }}Mi in total:
  JobManager{{ if gt $jms 1 }}s{{ end }}: {{ $jms }} × (CPU {{ divf $jm.milliCPU 1000 }}, memory {{ $jm.mebibytes }}Mi)
{{- if include "flink.native" . }}
  TaskManagers: {{ $tms }} × (CPU {{ divf $tm.milliCPU 1000 }}, memory {{ $tm.mebibytes }}Mi), the ones Flink keeps (native.minTaskManagers);
  each pod Flink creates for a job adds as much{{ with int .Values.native.maxTaskManagers }}, up to {{ . }} pods (native.maxTaskManagers){{ end }}
{{- else }}
  TaskManagers: {{ $tms }} × (CPU {{ divf $tm.milliCPU 1000 }}, memory {{ $tm.mebibytes }}Mi)
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
  {{- include "flink.hookJobLimits" (dict "deadline" (include "flink.hookStartSeconds" .)) | nindent 2 }}
  ttlSecondsAfterFinished: 300
  template:
    metadata:
      labels:
        {{- include "flink.stablePodLabels" (dict "ctx" . "component" "ha-cleanup") | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      restartPolicy: Never
      {{- with include "flink.pullSecrets" . }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: cleanup
          image: {{ .Values.highAvailability.cleanup.image | quote }}
          {{- with include "flink.pullPolicy" . }}{{ . | nindent 10 }}{{ end }}
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


{{/* Every hook Job has a deadline: one whose pod cannot start (an image that cannot be pulled, a
     quota) then fails within it and Helm reports the Job's failure, where it would otherwise wait
     out its --timeout (5 minutes by default) and say only that it timed out. Retries are bounded
     by the deadline too. (dict "deadline" seconds ["backoffLimit" n]) */}}
{{- define "flink.hookJobLimits" -}}
backoffLimit: {{ hasKey . "backoffLimit" | ternary .backoffLimit 3 }}
activeDeadlineSeconds: {{ .deadline }}
{{- end -}}

{{/* Seconds a hook pod may take to start (pull its image, reach the API server) on top of what it
     waits for; a hook that only calls kubectl gets this as its whole deadline. Well below Helm's
     default --timeout, so that Helm reports the hook's own failure. */}}
{{- define "flink.hookStartSeconds" -}}120{{- end -}}

{{/* How long the native retire hook waits for the replaced JobManager pods to end: they stop
     within their grace period once the upgrade has replaced them. */}}
{{- define "flink.retireWaitSeconds" -}}
{{- add (.Values.jobmanager.terminationGracePeriodSeconds | default 30) 120 -}}
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
{{- $name := include "flink.boundedName" (dict "ctx" . "suffix" "-native-retire") -}}
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
{{- $wait := include "flink.retireWaitSeconds" . }}
{{- range $i, $step := list "wait" "delete" }}
{{- $deadline := include "flink.hookStartSeconds" $ }}
{{- if eq $step "wait" }}
{{- $deadline = add $deadline $wait }}
{{- end }}
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
  {{- include "flink.hookJobLimits" (dict "deadline" $deadline) | nindent 2 }}
  ttlSecondsAfterFinished: 300
  template:
    metadata:
      labels:
        {{- include "flink.stablePodLabels" (dict "ctx" $ "component" "native-retire") | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      restartPolicy: Never
      {{- with include "flink.pullSecrets" $ }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $step }}
          image: {{ $.Values.highAvailability.cleanup.image | quote }}
          {{- with include "flink.pullPolicy" $ }}{{ . | nindent 10 }}{{ end }}
          command:
            - kubectl
            {{- if eq $step "wait" }}
            - wait
            - --for=delete
            - pods
            - --namespace={{ $.Release.Namespace }}
            - --selector={{ include "flink.componentSelectorLabels" (dict "ctx" $ "component" "jobmanager") | replace ": " "=" | replace "\n" "," | replace "\"" "" }},helm-flink.dev/taskmanager-template!={{ $hash }}
            - --timeout={{ $wait }}s
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

{{/* The official Flink image's entrypoint acts on two env variables in ways the chart's pods do not
     survive: it writes FLINK_PROPERTIES into conf/config.yaml, the chart's read-only ConfigMap (the
     write fails, the entrypoint carries on and the properties are lost), and it links the jars
     ENABLE_BUILT_IN_PLUGINS names into /opt/flink/plugins, which a read-only root file system
     refuses. Refused at render for Flux and plain Helm, in the words `helm flink validate` uses
     (schema/env.go; charts/env_test.go holds the two together). The env of the Flink containers:
     extraEnv of the chart and each component, and in native mode what Flink adds to the
     TaskManager pods it creates (containerized.taskmanager.env.*). */}}
{{- define "flink.checkEnv" -}}
{{- $v := .Values -}}
{{- $found := list -}}
{{- range $at, $list := dict "extraEnv" $v.extraEnv "jobmanager.extraEnv" $v.jobmanager.extraEnv "taskmanager.extraEnv" $v.taskmanager.extraEnv -}}
{{- range $i, $e := $list -}}
{{- if kindIs "map" $e -}}
{{- $found = append $found (dict "at" (printf "%s.%d.name" $at $i) "name" (toString $e.name)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if include "flink.native" . -}}
{{- $prefix := "containerized.taskmanager.env." -}}
{{- range $k, $_ := $v.flinkConfiguration -}}
{{- if hasPrefix $prefix $k -}}
{{- $found = append $found (dict "at" (printf "flinkConfiguration.%s" $k) "name" (trimPrefix $prefix $k)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $readOnly := dig "readOnlyRootFilesystem" false (default dict $v.securityContext) -}}
{{- range $found -}}
{{- if eq .name "FLINK_PROPERTIES" -}}
{{- fail (printf "%s: the image's entrypoint writes FLINK_PROPERTIES into conf/config.yaml, which the chart mounts read-only from its ConfigMap: the properties would be lost (got %q, want the properties in flinkConfiguration instead)" .at .name) -}}
{{- else if and (eq .name "ENABLE_BUILT_IN_PLUGINS") $readOnly -}}
{{- fail (printf "%s: the image's entrypoint links these plugins into /opt/flink/plugins, which the read-only root file system (securityContext.readOnlyRootFilesystem) refuses (got %q, want the key removed, and the file systems (S3, GCS, Azure, OSS) named in objectStorage.plugins; other plugins in an image that has them under /opt/flink/plugins/<name>/)" .at .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
