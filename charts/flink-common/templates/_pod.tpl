{{/* Pod pieces of JobManager and TaskManager. Called with (dict "ctx" $ "component" "jobmanager"|"taskmanager"). */}}

{{/* A per-component value when set, else the chart-wide one. */}}
{{- define "flink.pick" -}}
{{- $c := index .ctx.Values .component -}}
{{- $v := index $c .key -}}
{{- if not $v -}}{{- $v = index .ctx.Values .key -}}{{- end -}}
{{- if $v -}}{{- toYaml $v -}}{{- end -}}
{{- end -}}

{{- define "flink.resources" -}}
{{- $c := index .ctx.Values .component -}}
{{- if $c.resources -}}
{{- toYaml $c.resources -}}
{{- else -}}
{{- $mem := include "flink.memoryQuantity" $c.memoryProcessSize -}}
requests:
  cpu: {{ $c.cpu | quote }}
  memory: {{ $mem }}
  {{- with include "flink.scratchMebibytes" . }}
  ephemeral-storage: {{ . }}Mi
  {{- end }}
limits:
  memory: {{ $mem }}
{{- end -}}
{{- end -}}

{{/* The scratch emptyDirs of a Flink pod: /tmp (Flink's io.tmp.dirs: spilled data, RocksDB's
     working copy, blobs) and the log folder, each within <component>.scratch's size, so that a
     busy pod is evicted alone instead of pushing the node into disk pressure. (dict "ctx" $
     "component" "…") */}}
{{- define "flink.scratchVolumes" -}}
{{- $s := (index .ctx.Values .component).scratch | default dict -}}
- name: tmp
  emptyDir: {{ if $s.tmp }}{sizeLimit: {{ $s.tmp }}}{{ else }}{}{{ end }}
- name: log
  emptyDir: {{ if $s.log }}{sizeLimit: {{ $s.log }}}{{ else }}{}{{ end }}
{{- end -}}

{{/* Their sum in MiB, the pod's ephemeral-storage request ("" when neither is bounded): the
     scheduler then places it on a node with that much disk. */}}
{{- define "flink.scratchMebibytes" -}}
{{- $s := (index .ctx.Values .component).scratch | default dict -}}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- $bytes := 0 -}}
{{- range $q := list $s.tmp $s.log -}}
{{- if $q -}}
{{- $n := regexFind "^[0-9]+" (toString $q) | int64 -}}
{{- $bytes = add $bytes (mul $n (get $units (regexReplaceAll "^[0-9]+" (toString $q) ""))) -}}
{{- end -}}
{{- end -}}
{{- if $bytes -}}{{ div (add $bytes 1048575) 1048576 }}{{- end -}}
{{- end -}}

{{- define "flink.ports" -}}
{{- if eq .component "jobmanager" }}
- {name: rpc, containerPort: 6123, protocol: TCP}
- {name: blob, containerPort: 6124, protocol: TCP}
- {name: http, containerPort: 8081, protocol: TCP}
{{- else }}
- {name: rpc, containerPort: 6122, protocol: TCP}
- {name: data, containerPort: 6121, protocol: TCP}
{{- end }}
{{- if .ctx.Values.metrics.enabled }}
- {name: metrics, containerPort: {{ .ctx.Values.metrics.port }}, protocol: TCP}
{{- end }}
{{- end -}}

{{- define "flink.probes" -}}
{{- $c := index .ctx.Values .component -}}
{{- /* Readiness is not liveness: a JobManager is ready once REST answers, a TaskManager once its
     shuffle server (data) listens; both live while RPC does. */ -}}
{{- $port := ternary "http" "data" (eq .component "jobmanager") -}}
livenessProbe:
  {{- if $c.livenessProbe }}
  {{- toYaml $c.livenessProbe | nindent 2 }}
  {{- else }}
  tcpSocket: {port: rpc}
  initialDelaySeconds: 30
  periodSeconds: 10
  failureThreshold: 6
  {{- end }}
readinessProbe:
  {{- if $c.readinessProbe }}
  {{- toYaml $c.readinessProbe | nindent 2 }}
  {{- else }}
  tcpSocket: {port: {{ $port }}}
  periodSeconds: 5
  {{- end }}
{{- end -}}

{{- define "flink.podAnnotations" -}}
checksum/config: {{ include "flink.configChecksum" .ctx }}
{{- /* The Flink version the image runs (follows image.tag or flinkVersion, never the chart version). */}}
helm-flink.dev/flink-version: {{ include "flink.version" .ctx | quote }}
{{- with include "flink.scrapeAnnotations" .ctx }}
{{ . }}
{{- end }}
{{- with .ctx.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with (index .ctx.Values .component).podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The annotations a Prometheus that discovers pods scrapes by (prometheus.io/*, as the
     kubernetes-pods job of Prometheus's example configuration and community chart read them):
     the reporter's port; Flink's reporter answers on any path. */}}
{{- define "flink.scrapeAnnotations" -}}
{{- $m := .Values.metrics -}}
{{- if and $m.enabled $m.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ $m.port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* Pod template labels: only those that never change with the chart version (no helm.sh/chart,
     no app.kubernetes.io/version), so a chart version bump restarts no Flink pod. */}}
{{- define "flink.stablePodLabels" -}}
{{ include "flink.componentSelectorLabels" . }}
app.kubernetes.io/part-of: flink
{{- end -}}

{{/* Flink pods: the stable labels plus the user's podLabels. In native mode the JobManager and
     the TaskManager pods it creates also carry the hash of what the TaskManagers run (see
     flink.taskmanagerTemplateHash): it changes only with what replaces the JobManager anyway. */}}
{{- define "flink.podLabels" -}}
{{ include "flink.stablePodLabels" . }}
{{- if include "flink.native" .ctx }}
{{- if eq .component "jobmanager" }}
helm-flink.dev/taskmanager-template: {{ include "flink.taskmanagerTemplateHash" .ctx | quote }}
{{- else if eq .component "taskmanager" }}
helm-flink.dev/taskmanager-template: {{ include "flink.taskmanagerTemplatePlaceholder" .ctx | quote }}
{{- end }}
{{- end }}
{{- with .ctx.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- with (index .ctx.Values .component).podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* An application's JobManager exits when its job cannot start (a missing entry class: "Could
     not create application program"), before any hook can run: the end of its log stays on the
     pod's status (kubectl describe, `helm install --wait` users, Flux and Argo CD see it) once the
     restarted container's log is gone. Application chart only: on the session chart it would
     change the pods 0.4 made, and an upgrade would replace a running session's JobManager. */}}
{{- define "flink.terminationMessage" -}}
{{- if hasKey .Values "job" -}}
terminationMessagePolicy: FallbackToLogsOnError
{{- end -}}
{{- end -}}

{{/* The Flink container. .args: the entrypoint command and its arguments. */}}
{{- define "flink.container" -}}
{{- $v := .ctx.Values -}}
{{- $c := index $v .component -}}
- name: {{ ternary "jobmanager" "taskmanager" (eq .component "jobmanager") }}
  image: {{ include "flink.image" .ctx | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- with include "flink.terminationMessage" .ctx }}
  {{ . }}
  {{- end }}
  args:
    {{- toYaml .args | nindent 4 }}
  env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    {{- with .env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $c.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $envFrom := concat (default list $v.extraEnvFrom) (default list $c.extraEnvFrom) }}
  {{- with $envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- include "flink.ports" . | trim | nindent 4 }}
  {{- include "flink.probes" . | nindent 2 }}
  resources:
    {{- include "flink.resources" . | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    - {name: flink-config, mountPath: /opt/flink/conf, readOnly: true}
    - {name: tmp, mountPath: /tmp}
    - {name: log, mountPath: /opt/flink/log}
    {{- if $v.persistence.enabled }}
    - {name: flink-data, mountPath: {{ $v.persistence.mountPath }}}
    {{- end }}
    {{- with .extraMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $c.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* A pod spec (the body under `spec:`). .args: container args; .restartPolicy; .initContainers and
     .extraVolumes/.extraMounts: what a chart adds (the jar fetcher); .env: env the chart adds;
     .automount: whether the pod gets an API token (default: with HA). */}}
{{- define "flink.podSpec" -}}
{{- $v := .ctx.Values -}}
{{- $c := index $v .component -}}
{{- $st := include "flink.storagePieces" .ctx | fromYaml -}}
{{- $p := merge (dict "env" (concat (default list .env) $st.env) "initContainers" (concat $st.initContainers (default list .initContainers)) "extraVolumes" (concat $st.volumes (default list .extraVolumes)) "extraMounts" (concat $st.mounts (default list .extraMounts))) . -}}
serviceAccountName: {{ include "flink.serviceAccountName" .ctx }}
automountServiceAccountToken: {{ ternary .automount $v.highAvailability.enabled (hasKey . "automount") }}
{{- with .restartPolicy }}
restartPolicy: {{ . }}
{{- end }}
{{- with $v.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- range $key := list "nodeSelector" "affinity" "tolerations" "topologySpreadConstraints" }}
{{- with include "flink.pick" (dict "ctx" $.ctx "component" $.component "key" $key) }}
{{ $key }}:
  {{- . | nindent 2 }}
{{- else }}
{{- if and (eq $key "affinity") (eq $.component "jobmanager") (gt (int (include "flink.jobmanagerReplicas" $.ctx)) 1) }}
{{- /* Standby JobManagers on other nodes where the cluster has them: one node lost or drained
     must not take the leader and its standbys together. Preferred: a one-node cluster still
     runs them all. */}}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "flink.componentSelectorLabels" (dict "ctx" $.ctx "component" "jobmanager") | nindent 14 }}
{{- end }}
{{- end }}
{{- end }}
{{- with (default $v.priorityClassName $c.priorityClassName) }}
priorityClassName: {{ . }}
{{- end }}
terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds | default 30 }}
{{- if and (eq .component "jobmanager") (include "flink.jobmanagerPodsResolvable" .ctx) }}
dnsConfig:
  searches: [{{ include "flink.jobmanagerPodsDomain" .ctx }}]
{{- end }}
{{- $inits := concat (default list $p.initContainers) (default list $c.initContainers) }}
{{- with $inits }}
initContainers:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  {{- include "flink.container" $p | nindent 2 }}
  {{- with $c.sidecars }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
volumes:
  - name: flink-config
    configMap:
      name: {{ include "flink.configName" .ctx }}
      items:
        - {key: {{ include "flink.configFile" .ctx }}, path: {{ include "flink.configFile" .ctx }}}
        - {key: log4j-console.properties, path: log4j-console.properties}
  {{- include "flink.scratchVolumes" . | nindent 2 }}
  {{- if $v.persistence.enabled }}
  - name: flink-data
    persistentVolumeClaim:
      claimName: {{ include "flink.dataClaimName" .ctx }}
  {{- end }}
  {{- with $p.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with $v.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with $c.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* JobManager args: with HA the rpc address is the pod's IP. As "-D" "key=value", two
     arguments: jobmanager.sh (1.20 and 2.x) takes a first argument that is not exactly -D for the
     legacy <host>, so -Dkey=value there breaks the JobManager; standalone-job.sh and the
     entrypoints' parsers take the pair as well. */}}
{{- define "flink.haArgs" -}}
{{- if .Values.highAvailability.enabled -}}
{{- toYaml (list "-D" "jobmanager.rpc.address=$(POD_IP)") -}}
{{- else -}}
{{- toYaml list -}}
{{- end -}}
{{- end -}}

{{- define "flink.taskmanagerDeployment" -}}
{{- if not (include "flink.native" .) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "flink.taskmanagerName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "taskmanager") | nindent 4 }}
spec:
  replicas: {{ .Values.taskmanager.replicas }}
  {{- /* Replaced all at once: a TaskManager of the previous revision kept running while new ones
       start registers with the (new) JobManager, takes tasks of the job submitted or resumed
       after the upgrade and fails them when its turn to go comes, one failover per TaskManager. */}}
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "flink.componentSelectorLabels" (dict "ctx" . "component" "taskmanager") | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "flink.podLabels" (dict "ctx" . "component" "taskmanager") | nindent 8 }}
      annotations:
        {{- include "flink.podAnnotations" (dict "ctx" . "component" "taskmanager") | nindent 8 }}
    spec:
      {{- $jar := include "flink.jarPieces" . | fromYaml }}
      {{- include "flink.podSpec" (dict "ctx" . "component" "taskmanager" "args" (list "taskmanager") "initContainers" $jar.initContainers "extraVolumes" $jar.volumes "extraMounts" $jar.mounts) | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* image.pullPolicy and image.pullSecrets, for every pod the charts render whatever its image
     (Flink, curl, kubectl): behind a private registry none may fail to pull. (the chart's root
     context; "" when unset) */}}
{{- define "flink.pullPolicy" -}}
{{- with .Values.image.pullPolicy }}imagePullPolicy: {{ . }}{{ end -}}
{{- end -}}
{{- define "flink.pullSecrets" -}}
{{- with .Values.image.pullSecrets }}imagePullSecrets:
{{- toYaml . | nindent 2 }}{{ end -}}
{{- end -}}

{{/* Env entries whose values reach a container as written: Kubernetes expands $(NAME) in env
     values, and $$ is its escape. (list (list "NAME" value) …) */}}
{{- define "flink.literalEnv" -}}
{{- $out := list -}}
{{- range . -}}
{{- $out = append $out (dict "name" (index . 0) "value" (toString (index . 1) | replace "$" "$$")) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Where an application's jar comes from (flink-job): baked in the image (local://), or fetched
     from http(s) by an init container into the usrlib emptyDir of every Flink pod — application
     mode hands TaskManagers the jar as a path relative to usrlib. Renders a dict: initContainers,
     volumes, mounts. */}}
{{- define "flink.jarPieces" -}}
{{- $out := dict "initContainers" list "volumes" list "mounts" list -}}
{{- $job := .Values.job | default dict -}}
{{- if regexMatch "^https?://" (toString $job.jarURI) -}}
{{- $file := printf "/opt/flink/usrlib/%s" (base (regexReplaceAll "[?#].*$" $job.jarURI "")) -}}
{{- /* The URL, file and checksum reach the script as environment, never as script text: a URL
     holding $(…) or backticks is a URL, not a command. */ -}}
{{- $script := "set -eu\ncurl -fsSL --retry 3 -o \"$JAR_FILE\" -- \"$JAR_URL\"\n" -}}
{{- $env := list (list "JAR_URL" $job.jarURI) (list "JAR_FILE" $file) -}}
{{- if $job.jarSHA256 -}}
{{- $script = printf "%secho \"$JAR_SHA256  $JAR_FILE\" | sha256sum -c -\n" $script -}}
{{- $env = append $env (list "JAR_SHA256" $job.jarSHA256) -}}
{{- end -}}
{{- $env = include "flink.literalEnv" $env | fromYamlArray -}}
{{- /* A failed fetch or checksum is told by the pod's status (kubectl describe), which outlives
     the failed container's log: FallbackToLogsOnError. */ -}}
{{- $init := dict "name" "fetch-jar" "image" $job.fetcher.image "imagePullPolicy" .Values.image.pullPolicy "command" (list "sh" "-c" $script) "env" $env "terminationMessagePolicy" "FallbackToLogsOnError" "volumeMounts" (list (dict "name" "usrlib" "mountPath" "/opt/flink/usrlib")) "securityContext" .Values.securityContext "resources" (dict "requests" (dict "cpu" "10m" "memory" "32Mi") "limits" (dict "memory" "128Mi")) -}}
{{- $_ := set $out "initContainers" (list $init) -}}
{{- $_ = set $out "volumes" (list (dict "name" "usrlib" "emptyDir" dict)) -}}
{{- $_ = set $out "mounts" (list (dict "name" "usrlib" "mountPath" "/opt/flink/usrlib")) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The job jar's path in the Flink container: in the image (local:///path), or the file the jar
     fetcher downloads into usrlib. */}}
{{- define "flink.jobJarPath" -}}
{{- $uri := toString .Values.job.jarURI -}}
{{- if regexMatch "^https?://" $uri -}}
/opt/flink/usrlib/{{ base (regexReplaceAll "[?#].*$" $uri "") }}
{{- else -}}
{{ trimPrefix "local://" $uri }}
{{- end -}}
{{- end -}}

{{/* Native mode: the JobManager container runs kubernetes-jobmanager.sh <service> (Flink's
     KubernetesSessionClusterEntrypoint or KubernetesApplicationClusterEntrypoint), talks to the
     API server with its ServiceAccount's token (the chart's Role), reads FLINK_CONF_DIR, and mounts
     the TaskManager pod template. Renders a dict of flink.podSpec's arguments. */}}
{{- define "flink.nativeJobManagerPieces" -}}
{{- $jar := include "flink.jarPieces" . | fromYaml -}}
{{- $service := ternary "kubernetes-application" "kubernetes-session" (hasKey .Values "job") -}}
{{- $env := list (dict "name" "FLINK_CONF_DIR" "value" "/opt/flink/conf") (dict "name" "_POD_IP_ADDRESS" "valueFrom" (dict "fieldRef" (dict "fieldPath" "status.podIP"))) -}}
{{- $file := include "flink.podTemplateFile" . -}}
{{- $volume := dict "name" "pod-template" "configMap" (dict "name" (include "flink.configName" .) "items" (list (dict "key" (base $file) "path" (base $file)))) -}}
{{- $mount := dict "name" "pod-template" "mountPath" (dir $file) "readOnly" true -}}
{{- toYaml (dict "args" (list "kubernetes-jobmanager.sh" $service) "env" $env "automount" true "initContainers" $jar.initContainers "extraVolumes" (prepend $jar.volumes $volume) "extraMounts" (prepend $jar.mounts $mount)) -}}
{{- end -}}

{{/* Native mode: the template of the TaskManager pods Flink creates
     (kubernetes.pod-template-file.taskmanager). Flink sets the pod's name, ServiceAccount,
     restartPolicy Never, the main container's image, command, CPU and memory (from
     kubernetes.taskmanager.cpu.amount and taskmanager.memory.process.size) and its rpc port, adds its
     labels (app: <cluster-id>, component: taskmanager, type: flink-native-kubernetes), the
     flink-config-<cluster-id> volume at /opt/flink/conf and the owner reference to the JobManager
     Deployment; the rest is the chart's: security contexts (Pod Security restricted admits the
     pods), the stable labels, annotations, scheduling, pull secrets, env, volumes and the jar
     fetcher. The main container must be named flink-main-container. */}}
{{- define "flink.taskmanagerPodTemplate" -}}
{{- $v := .Values -}}
{{- $c := $v.taskmanager -}}
{{- $ctx := dict "ctx" . "component" "taskmanager" -}}
{{- $jar := include "flink.jarPieces" . | fromYaml -}}
{{- $st := include "flink.storagePieces" . | fromYaml -}}
apiVersion: v1
kind: Pod
metadata:
  labels:
    {{- include "flink.podLabels" $ctx | nindent 4 }}
  annotations:
    helm-flink.dev/flink-version: {{ include "flink.version" . | quote }}
    {{- with include "flink.scrapeAnnotations" . }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $c.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  automountServiceAccountToken: {{ $v.highAvailability.enabled }}
  {{- with $v.image.pullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- range $key := list "nodeSelector" "affinity" "tolerations" "topologySpreadConstraints" }}
  {{- with include "flink.pick" (dict "ctx" $ "component" "taskmanager" "key" $key) }}
  {{ $key }}:
    {{- . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- with (default $v.priorityClassName $c.priorityClassName) }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds | default 30 }}
  {{- $inits := concat $st.initContainers (default list $jar.initContainers) (default list $c.initContainers) }}
  {{- with $inits }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: flink-main-container
      {{- with include "flink.terminationMessage" . }}
      {{ . }}
      {{- end }}
      env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        {{- with $st.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $c.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $envFrom := concat (default list $v.extraEnvFrom) (default list $c.extraEnvFrom) }}
      {{- with $envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $v.metrics.enabled }}
      ports:
        - {name: metrics, containerPort: {{ $v.metrics.port }}, protocol: TCP}
      {{- end }}
      {{- with $c.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- else }}
      {{- with include "flink.scratchMebibytes" (dict "ctx" . "component" "taskmanager") }}
      {{- /* Flink sets CPU and memory from the TaskManager's size and keeps this. */}}
      resources:
        requests: {ephemeral-storage: {{ . }}Mi}
      {{- end }}
      {{- end }}
      {{- with $c.livenessProbe }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.readinessProbe }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - {name: tmp, mountPath: /tmp}
        - {name: log, mountPath: /opt/flink/log}
        {{- if $v.persistence.enabled }}
        - {name: flink-data, mountPath: {{ $v.persistence.mountPath }}}
        {{- end }}
        {{- with concat $st.mounts $jar.mounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $c.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with $c.sidecars }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    {{- include "flink.scratchVolumes" (dict "ctx" . "component" "taskmanager") | nindent 4 }}
    {{- if $v.persistence.enabled }}
    - name: flink-data
      persistentVolumeClaim:
        claimName: {{ include "flink.dataClaimName" . }}
    {{- end }}
    {{- with concat $st.volumes $jar.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $v.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $c.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
