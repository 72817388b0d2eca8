{{/* Opt-in periodic savepoints (periodicSavepoints.enabled), no plugin needed: a CronJob that
     takes a savepoint of each running job over REST, records it in the release's savepoint record
     (reason "periodic", against the current revision) and keeps the newest periodicSavepoints.keep
     periodic ones: older ones are disposed of through Flink and leave the record only once
     disposed of (one Flink cannot dispose of is reported and stays recorded). Its Flink container
     has no API access; a kubectl container with the CronJob's token writes the record: creates
     it when missing (server-side apply of its metadata), then merge-patches the entries in and
     out, so that no other writer's entry is touched. */}}

{{- define "flink.periodicSavepointsName" -}}{{ include "flink.boundedName" (dict "ctx" . "suffix" "-periodic-savepoints" "max" 52) }}{{- end -}}

{{/* The Flink container's script: savepoints, record patch, retention. (bash; env REST_ADDRESS,
     TARGET_DIR, KEEP, REVISION, TRIES; the record mounted at /etc/helm-flink/record, the patch
     written to /out.) */}}
{{- define "flink.periodicSavepointsScript" -}}
set -eu
{{ include "flink.restFunctions" . }}
quote() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
# str KEY JSON: the first string KEY has in JSON.
str() { echo "$2" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4; }
# wait_op PATH: polls an asynchronous operation until it completed; prints its answer.
wait_op() {
  local st i
  for i in $(seq 1 "$TRIES"); do
    st=$(get "$1") || st=
    case $st in *'"id":"COMPLETED"'*) echo "$st"; return 0 ;; esac
    sleep 2
  done
  echo "$1 did not complete in time: ${st:-no answer}" >&2; return 1
}
mkdir -p /tmp/new
jobs=$(get /jobs/overview) || { echo "the JobManager at $REST_ADDRESS does not answer: no savepoint taken" >&2; exit 1; }
failed=0
body='{"cancel-job":false}'
if [ -n "$TARGET_DIR" ]; then body="{\"cancel-job\":false,\"target-directory\":$(quote "$TARGET_DIR")}"; fi
while read -r job; do
  id=$(str jid "$job") name=$(str name "$job")
  [ -n "$id" ] && [ "$(str state "$job")" = RUNNING ] || continue
  req=$(str request-id "$(rest POST "/jobs/$id/savepoints" "$body")") || req=
  if [ -z "$req" ]; then echo "job $id ($name): Flink did not take a savepoint" >&2; failed=1; continue; fi
  st=$(wait_op "/jobs/$id/savepoints/$req") || { failed=1; continue; }
  location=$(str location "$st")
  if [ -z "$location" ]; then
    echo "job $id ($name): the savepoint failed: $(echo "$st" | grep -o '"stack-trace":"[^"]*' | cut -d'"' -f4 | sed 's/\\n.*//')" >&2
    failed=1; continue
  fi
  at=$(date -u +%Y-%m-%dT%H:%M:%SZ) key="$(date -u +%Y%m%dT%H%M%S.%NZ)-${id:0:8}"
  echo "{\"revision\":$REVISION,\"jobId\":\"$id\",\"jobName\":$(quote "$name"),\"path\":$(quote "$location"),\"reason\":\"periodic\",\"time\":\"$at\"}" > "/tmp/new/$key"
  echo "job $id ($name): savepoint $location"
done <<< "$(echo "$jobs" | sed 's/{"jid"/\n{"jid"/g')"
# Retention: the periodic savepoints, recorded and new, newest first; beyond KEEP disposed of.
drop=()
n=0
for f in $(ls -1 /etc/helm-flink/record/ /tmp/new/ 2>/dev/null | grep -v '^/\|^$\|^\.' | sort -r -u); do
  file=/tmp/new/$f; [ -f "$file" ] || file=/etc/helm-flink/record/$f
  [ -f "$file" ] && grep -q '"reason":"periodic"' "$file" || continue
  n=$((n + 1))
  [ "$n" -gt "$KEEP" ] || continue
  path=$(str path "$(cat "$file")")
  req=$(str request-id "$(rest POST /savepoint-disposal "{\"savepoint-path\":$(quote "$path")}")") || req=
  if [ -n "$req" ] && st=$(wait_op "/savepoint-disposal/$req") && ! echo "$st" | grep -q '"failure-cause"'; then
    echo "disposed of $path (beyond the newest $KEEP periodic savepoints)"; drop+=("$f")
  else
    echo "could not dispose of $path; it stays recorded: ${st:-no answer}" >&2; failed=1
  fi
done
{
  printf '{"data":{'
  sep=
  for f in $(ls -1 /tmp/new/); do
    if [[ " ${drop[*]:-} " != *" $f "* ]]; then printf '%s%s:%s' "$sep" "$(quote "$f")" "$(quote "$(cat "/tmp/new/$f")")"; sep=,; fi
  done
  for f in "${drop[@]:-}"; do
    if [ -n "$f" ] && [ ! -f "/tmp/new/$f" ]; then printf '%s%s:null' "$sep" "$(quote "$f")"; sep=,; fi
  done
  printf '}}\n'
} > /out/patch.json
echo "$failed" > /out/failed
{{- end -}}

{{- define "flink.periodicSavepoints" -}}
{{- if .Values.periodicSavepoints.enabled -}}
{{- $name := include "flink.periodicSavepointsName" . -}}
{{- $record := include "flink.savepointRecordName" . -}}
{{- $conf := include "flink.configuration" . | fromYaml -}}
{{- $dir := .Values.periodicSavepoints.dir | default (get $conf "state.savepoints.dir") | default (get $conf "execution.checkpointing.savepoint-dir") -}}
{{- if not $dir -}}
{{- fail "periodicSavepoints.enabled needs a savepoint directory: set periodicSavepoints.dir or flinkConfiguration.state\\.savepoints\\.dir (e.g. s3://bucket/savepoints), or persistence.enabled" -}}
{{- end -}}
{{- $tries := max 1 (div (int .Values.periodicSavepoints.timeoutSeconds) 2) -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 4 }}
automountServiceAccountToken: false
---
{{- /* The savepoint record and nothing else. */}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [create]
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [{{ $record }}]
    verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .Release.Namespace | toYaml }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}-record
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 4 }}
data:
  {{- /* The record's metadata, applied before the entries are patched in: creates it when missing. */}}
  record.yaml: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: {{ $record }}
      namespace: {{ .Release.Namespace }}
      labels:
        helm-flink.dev/savepoints-of: {{ .Release.Name }}
        app.kubernetes.io/managed-by: helm-flink
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 4 }}
spec:
  schedule: {{ .Values.periodicSavepoints.schedule | quote }}
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      {{- include "flink.hookJobLimits" (dict "deadline" (add (mul $tries 6) (include "flink.hookStartSeconds" .)) "backoffLimit" 0) | nindent 6 }}
      template:
        metadata:
          labels:
            {{- include "flink.stablePodLabels" (dict "ctx" . "component" "periodic-savepoints") | nindent 12 }}
        spec:
          serviceAccountName: {{ $name }}
          restartPolicy: Never
          automountServiceAccountToken: false
          {{- with include "flink.pullSecrets" . }}{{ . | nindent 10 }}{{ end }}
          securityContext:
            {{- toYaml .Values.podSecurityContext | nindent 12 }}
          initContainers:
            - name: savepoints
              image: {{ include "flink.image" . | quote }}
              {{- with include "flink.pullPolicy" . }}{{ . | nindent 14 }}{{ end }}
              command: ["bash", "-c"]
              args:
                - |
                  {{- include "flink.periodicSavepointsScript" . | nindent 18 }}
              env:
                - name: REST_ADDRESS
                  value: {{ include "flink.restServiceName" . }}.{{ .Release.Namespace }}.svc:8081
                - name: TARGET_DIR
                  value: {{ .Values.periodicSavepoints.dir | quote }}
                - name: KEEP
                  value: {{ .Values.periodicSavepoints.keep | quote }}
                - name: REVISION
                  value: {{ .Release.Revision | quote }}
                - name: TRIES
                  value: {{ $tries | quote }}
              resources:
                requests: {cpu: 10m, memory: 32Mi}
                limits: {memory: 128Mi}
              securityContext:
                {{- toYaml .Values.securityContext | nindent 16 }}
              volumeMounts:
                - {name: tmp, mountPath: /tmp}
                - {name: out, mountPath: /out}
                - {name: record, mountPath: /etc/helm-flink/record, readOnly: true}
            {{- $create := list "apply" "--server-side" "--field-manager=helm-flink-periodic" (printf "--namespace=%s" .Release.Namespace) "--filename=/etc/helm-flink/meta/record.yaml" }}
            {{- $patch := list "patch" "configmap" $record (printf "--namespace=%s" .Release.Namespace) "--type=merge" "--patch-file=/out/patch.json" }}
            {{- $kubectl := list (dict "name" "create-record" "args" $create) (dict "name" "record" "args" $patch) }}
            {{- range $kubectl }}
            - name: {{ .name }}
              image: {{ $.Values.highAvailability.cleanup.image | quote }}
              {{- with include "flink.pullPolicy" $ }}{{ . | nindent 14 }}{{ end }}
              command: ["kubectl"]
              args:
                {{- toYaml .args | nindent 16 }}
              resources:
                requests: {cpu: 10m, memory: 32Mi}
                limits: {memory: 128Mi}
              securityContext:
                {{- toYaml $.Values.securityContext | nindent 16 }}
              volumeMounts:
                - {name: kube-api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
                - {name: meta, mountPath: /etc/helm-flink/meta, readOnly: true}
                - {name: out, mountPath: /out, readOnly: true}
            {{- end }}
          containers:
            {{- /* The run fails when a savepoint or a disposal did, once what did succeed is recorded. */}}
            - name: result
              image: {{ include "flink.image" . | quote }}
              {{- with include "flink.pullPolicy" . }}{{ . | nindent 14 }}{{ end }}
              command: ["bash", "-c", "exit \"$(cat /out/failed)\""]
              resources:
                requests: {cpu: 10m, memory: 16Mi}
                limits: {memory: 32Mi}
              securityContext:
                {{- toYaml .Values.securityContext | nindent 16 }}
              volumeMounts:
                - {name: out, mountPath: /out, readOnly: true}
          volumes:
            - {name: tmp, emptyDir: {}}
            - {name: out, emptyDir: {}}
            - name: record
              configMap: {name: {{ $record }}, optional: true}
            - name: meta
              configMap: {name: {{ $name }}-record}
            - name: kube-api-access
              projected:
                sources:
                  - serviceAccountToken: {path: token, expirationSeconds: 3600}
                  - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
                  - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
{{- end -}}
{{- end -}}
