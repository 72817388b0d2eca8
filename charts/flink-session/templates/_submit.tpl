{{/* The JobManager's pod template and what the submit hooks need to keep a job's state across
     an upgrade that replaces the JobManager (see submit-job.yaml and submit-upgrade.yaml). */}}

{{/* The JobManager Deployment's pod template (its hash tells whether an upgrade replaces it). */}}
{{- define "flinksession.jobmanagerTemplate" -}}
metadata:
  labels:
    {{- include "flink.podLabels" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
  annotations:
    {{- include "flink.podAnnotations" (dict "ctx" . "component" "jobmanager") | nindent 4 }}
spec:
  {{- if include "flink.native" . }}
  {{- $native := include "flink.nativeJobManagerPieces" . | fromYaml }}
  {{- include "flink.podSpec" (merge (dict "ctx" . "component" "jobmanager") $native) | nindent 2 }}
  {{- else }}
  {{- $args := concat (list "jobmanager") (include "flink.haArgs" . | fromYamlArray) }}
  {{- include "flink.podSpec" (dict "ctx" . "component" "jobmanager" "args" $args) | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Hash of the JobManager's pod template: an upgrade that changes it replaces the JobManager.
     Nothing in the template follows the chart version, so neither does the hash. */}}
{{- define "flinksession.jobmanagerTemplateHash" -}}
{{- include "flinksession.jobmanagerTemplate" . | sha256sum | trunc 16 -}}
{{- end -}}

{{/* Where Kubernetes HA keeps the cluster's jobs: a new JobManager with the same recovers them. */}}
{{- define "flinksession.haIdentity" -}}
{{- if .Values.highAvailability.enabled -}}
{{- include "flink.clusterId" . }} {{ .Values.highAvailability.storageDir -}}
{{- end -}}
{{- end -}}

{{/* Annotations of the JobManager Deployment (not of its pods: they restart nothing) that the next
     upgrade reads with `lookup` to tell whether it replaces the JobManager under the running job. */}}
{{- define "flinksession.jobmanagerAnnotations" -}}
helm-flink.dev/pod-template-hash: {{ include "flinksession.jobmanagerTemplateHash" . | quote }}
{{- with include "flink.ownJobAnnotations" (dict "name" .Values.submit.jobName) }}
{{ . }}
{{- end }}
{{- with include "flinksession.haIdentity" . }}
helm-flink.dev/ha: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The live JobManager Deployment's (or StatefulSet's) annotations, looked up from the cluster:
     hash and ha ("" when there is no such object, it has no annotation, or no cluster to ask: `helm template`). */}}
{{- define "flinksession.liveJobManager" -}}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace (include "flink.jobmanagerName" .) -}}
{{- if not $live -}}
{{- $live = lookup "apps/v1" "StatefulSet" .Release.Namespace (include "flink.jobmanagerSetName" .) -}}
{{- end -}}
{{- $annotations := dig "metadata" "annotations" dict $live -}}
{{- toYaml (dict "hash" (get $annotations "helm-flink.dev/pod-template-hash") "ha" (get $annotations "helm-flink.dev/ha")) -}}
{{- end -}}

{{/* "stop" when this upgrade replaces the JobManager and the job would not survive it on its own:
     the live JobManager has another pod template hash, or none (submit was off, an older chart, or
     no cluster to ask), and Kubernetes HA does not carry the job over (HA on before and after, with
     the same cluster id and storage). */}}
{{- define "flinksession.upgradeStopsJob" -}}
{{- $live := include "flinksession.liveJobManager" . | fromYaml -}}
{{- if ne (toString $live.hash) (include "flinksession.jobmanagerTemplateHash" .) -}}
{{- if not (and $live.hash .Values.highAvailability.enabled (eq (toString $live.ha) (include "flinksession.haIdentity" .))) -}}
stop
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Flink configuration's job-level options as `flink run -D` arguments: the CLI builds the
     job graph with its own configuration, not the cluster's, so without them the submitted job
     would run without the configured checkpointing, state backend, restart strategy or default
     parallelism. Cluster-level options (HA above all: the CLI would look for the leader through
     the Kubernetes API) stay out, and so do those of the CLI's own deployment and savepoint. */}}
{{- define "flinksession.jobOptions" -}}
{{- $args := list -}}
{{- range $k, $v := include "flink.configuration" . | fromYaml -}}
{{- if and (or (regexMatch "^(execution|pipeline|restart-strategy|state|table)[.]" $k) (eq $k "parallelism.default")) (not (regexMatch "^execution[.](target|attached|shutdown-on-attached-exit|savepoint[.])" $k)) -}}
{{- $value := $v -}}
{{- if kindIs "slice" $v -}}
{{- $value = join ";" $v -}}
{{- else if kindIs "map" $v -}}
{{- $pairs := list -}}
{{- range $mk, $mv := $v -}}{{- $pairs = append $pairs (printf "%s:%v" $mk $mv) -}}{{- end -}}
{{- $value = join "," $pairs -}}
{{- end -}}
{{- $args = append $args (printf "-D%s=%v" $k $value) -}}
{{- end -}}
{{- end -}}
{{- toYaml $args -}}
{{- end -}}

{{- define "flinksession.submitName" -}}{{ include "flink.fullname" . }}-submit{{- end -}}
{{/* Where charts before 0.5 kept the submit hook's state (job-ran, a pending savepoint); read
     until the job's first submission in the jobs record, and deleted with the release. */}}
{{- define "flinksession.legacyStateName" -}}{{ include "flink.fullname" . }}-submit-state{{- end -}}

{{/* Without HA a replaced JobManager forgets its jobs: the pre-upgrade hook stops the job with a
     savepoint, which must outlive the pods. */}}
{{- define "flinksession.checkSubmit" -}}
{{- if and .Values.submit.enabled (not .Values.highAvailability.enabled) (not .Values.persistence.enabled) -}}
{{- $conf := default dict .Values.flinkConfiguration -}}
{{- if not (or (get $conf "state.savepoints.dir") (get $conf "execution.checkpointing.savepoint-dir")) -}}
{{- fail "submit.enabled without highAvailability: an upgrade that replaces the JobManager stops the job with a savepoint and resumes it from there, so savepoints need storage that outlives the pods: set persistence.enabled=true (savepoints go to its claim) or flinkConfiguration.state\\.savepoints\\.dir (e.g. s3://bucket/savepoints)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Bash functions of the hook scripts: the JobManager's REST API over bash's /dev/tcp (the Flink
     image has no curl), and what the release's records say of the job (the jobs record mounted at
     /etc/helm-flink/jobs, the savepoint record at /etc/helm-flink/record, the state of a chart
     before 0.5 at /etc/helm-flink/state). */}}
{{- define "flinksession.hookFunctions" -}}
{{ include "flink.restFunctions" . }}
# jobs: the jobs the JobManager knows, one a line: id state name. Fails when it does not answer.
jobs() {
  local body; body=$(get /jobs/overview) || return 1
  case $body in '{"jobs":'*) ;; *) echo "GET /jobs/overview: ${body:-no answer}" >&2; return 1 ;; esac
  echo "$body" | grep -o '"jid":"[0-9a-f]*","name":"[^"]*"[^{]*"state":"[A-Z]*"' |
    sed 's/^"jid":"\([0-9a-f]*\)","name":"\([^"]*\)".*"state":"\([A-Z]*\)"$/\1 \3 \2/'
}
# waitJobs: until the JobManager answers with no job between states; prints the jobs.
waitJobs() {
  local list i
  for i in $(seq 1 90); do
    if list=$(jobs) && ! echo "$list" | grep -Eq '^[0-9a-f]+ (CREATED|INITIALIZING|RESTARTING|RECONCILING|FAILING|CANCELLING) '; then
      echo "$list"; return 0
    fi
    sleep 2
  done
  echo "the JobManager at $REST_ADDRESS did not list its jobs in a settled state: ${list:-no answer}" >&2; return 1
}
# waitRunning ID: until the job is RUNNING with no task still being scheduled or deployed.
waitRunning() {
  local job i
  for i in $(seq 1 300); do
    job=$(get "/jobs/$1") || job=
    if echo "$job" | grep -q '"state":"FAILED"'; then
      echo "job $1 failed:" >&2; get "/jobs/$1/exceptions" >&2 || true; return 1
    fi
    if echo "$job" | grep -q '"state":"RUNNING"' && ! echo "$job" | grep -Eq '"status":"(CREATED|SCHEDULED|DEPLOYING|INITIALIZING|RECONCILING)"'; then
      echo "job $1: every task is RUNNING"; return 0
    fi
    sleep 1
  done
  echo "job $1 did not get every task RUNNING in time" >&2; return 1
}
quote() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
# field KEY FILE: a string or number field of the one-line JSON entry in FILE.
field() { grep -o "\"$1\":\(\"[^\"]*\"\|[0-9]*\)" "$2" | head -n1 | cut -d: -f2- | tr -d '"'; }
# submitted: the revision of the job's newest submission in the jobs record, 0 for one a chart
# before 0.5 ran (its state said job-ran), "" when it has never run in this release.
submitted() {
  local f r rev=
  for f in /etc/helm-flink/jobs/*; do
    if [ -f "$f" ] && grep -qF "\"name\":$(quote "$JOB_NAME")" "$f"; then
      r=$(field revision "$f")
      if [ -z "$rev" ] || [ "${r:-0}" -gt "$rev" ]; then rev=${r:-0}; fi
    fi
  done
  if [ -z "$rev" ] && [ "$(cat /etc/helm-flink/state/job-ran 2>/dev/null)" = true ]; then rev=0; fi
  echo "$rev"
}
# pending REVISION: the newest savepoint of the job recorded from REVISION (its last submission's)
# on, "" when none: what it resumes from when it does not run. Record keys sort by time.
pending() {
  local f r path=
  for f in /etc/helm-flink/record/*; do
    if [ -f "$f" ] && grep -qF "\"jobName\":$(quote "$JOB_NAME")" "$f"; then
      r=$(field revision "$f")
      if [ "${r:-0}" -ge "${1:-0}" ]; then path=$(field path "$f"); fi
    fi
  done
  if [ -z "$path" ] && [ "${1:-0}" = 0 ]; then path=$(cat /etc/helm-flink/state/savepoint 2>/dev/null || true); fi
  echo "$path"
}
{{- end -}}

{{/* The savepoint record as the pre-upgrade hook writes it: the entries it found (the record is
     mounted at /etc/helm-flink/record) and the savepoint it took, against the revision being
     left, in the form the plugin reads (package savepoint). The whole record is applied, so that
     no entry of another writer is dropped. (bash lines; $location, "" when none was taken, and
     $stop set.) */}}
{{- define "flinksession.recordSavepoint" -}}
now=$(date -u +%Y%m%dT%H%M%S.%NZ) at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
entry="{\"revision\":{{ sub .Release.Revision 1 }},\"jobId\":\"$stop\",\"jobName\":\"$JOB_NAME\",\"path\":\"$location\",\"reason\":\"upgrade\",\"time\":\"$at\"}"
{
  printf '%s\n' "apiVersion: v1" "kind: ConfigMap" "metadata:" "  name: {{ include "flink.savepointRecordName" . }}" \
    "  namespace: {{ .Release.Namespace }}" "  labels:" "    helm-flink.dev/savepoints-of: {{ .Release.Name }}" \
    "    app.kubernetes.io/managed-by: helm-flink" "data:"
  if [ -n "$location" ]; then printf '  %s: %s\n' "${now}-${stop:0:8}" "$(quote "$entry")"; fi
  for f in /etc/helm-flink/record/*; do
    if [ -f "$f" ]; then printf '  %s: %s\n' "${f##*/}" "$(quote "$(cat "$f")")"; fi
  done
} > /out/record.yaml
{{- end -}}

{{/* The jobs record as the submit hook writes it: the entries it found (the record is mounted at
     /etc/helm-flink/jobs) but those of earlier submissions of its job, and its job's, in the form
     the plugin reads (package savepoint, Submission). The whole record is applied, so that no
     entry of another writer is dropped. (bash lines; $id set.) */}}
{{- define "flinksession.recordJob" -}}
at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
entry="{\"jobId\":\"$id\",\"jarId\":\"\",\"jar\":$(quote "$JAR"),\"name\":$(quote "$JOB_NAME"),\"revision\":{{ .Release.Revision }},\"time\":\"$at\"}"
{
  printf '%s\n' "apiVersion: v1" "kind: ConfigMap" "metadata:" "  name: {{ include "flink.jobsRecordName" . }}" \
    "  namespace: {{ .Release.Namespace }}" "  labels:" "    helm-flink.dev/jobs-of: {{ .Release.Name }}" \
    "    app.kubernetes.io/managed-by: helm-flink" "data:"
  printf '  %s: %s\n' "$id" "$(quote "$entry")"
  for f in /etc/helm-flink/jobs/*; do
    if [ -f "$f" ] && [ "${f##*/}" != "$id" ] && ! grep -qF "\"name\":$(quote "$JOB_NAME")" "$f"; then
      printf '  %s: %s\n' "${f##*/}" "$(quote "$(cat "$f")")"
    fi
  done
} > /out/jobs.yaml
{{- end -}}

{{/* A kubectl container with the hook ServiceAccount's token (the pod mounts none otherwise:
     the Flink containers get no API access). (dict "ctx" $ "name" "…" "args" (list …) "mounts" (list …)) */}}
{{- define "flinksession.kubectlContainer" -}}
- name: {{ .name }}
  image: {{ .ctx.Values.submit.kubectlImage | quote }}
  {{- with include "flink.pullPolicy" .ctx }}{{ . | nindent 2 }}{{ end }}
  command: ["kubectl"]
  args:
    {{- toYaml .args | nindent 4 }}
  resources:
    requests: {cpu: 10m, memory: 32Mi}
    limits: {memory: 128Mi}
  securityContext:
    {{- toYaml .ctx.Values.securityContext | nindent 4 }}
  volumeMounts:
    - {name: kube-api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
    {{- with .mounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{- define "flinksession.kubeApiAccessVolume" -}}
- name: kube-api-access
  projected:
    sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3600}
      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
      - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
{{- end -}}
