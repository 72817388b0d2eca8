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
{{- define "flinksession.submitStateName" -}}{{ include "flink.fullname" . }}-submit-state{{- end -}}

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
     image has no curl) and the submit state (a ConfigMap mounted at /etc/helm-flink/state). */}}
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
# state KEY: the submit state as the upgrade found it ("" when unset).
state() { cat "/etc/helm-flink/state/$1" 2>/dev/null || true; }
quote() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
{{- end -}}

{{/* The submit state's ConfigMap as the pre-upgrade hook writes it (bash printf lines, without data). */}}
{{- define "flinksession.stateMetadata" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "flinksession.submitStateName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.stablePodLabels" (dict "ctx" . "component" "submit") | nindent 4 }}
{{- end -}}

{{/* The savepoint record as the pre-upgrade hook writes it: the entries it found (the record is
     mounted at /etc/helm-flink/record) and the savepoint it took, against the revision being
     left, in the form the plugin reads (package savepoint). The whole record is applied, so that
     no entry of another writer is dropped. (bash lines; $location, $stop set.) */}}
{{- define "flinksession.recordSavepoint" -}}
now=$(date -u +%Y%m%dT%H%M%S.%NZ) at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
entry="{\"revision\":{{ sub .Release.Revision 1 }},\"jobId\":\"$stop\",\"jobName\":\"$JOB_NAME\",\"path\":\"$location\",\"reason\":\"upgrade\",\"time\":\"$at\"}"
{
  printf '%s\n' "apiVersion: v1" "kind: ConfigMap" "metadata:" "  name: {{ include "flink.savepointRecordName" . }}" \
    "  namespace: {{ .Release.Namespace }}" "  labels:" "    helm-flink.dev/savepoints-of: {{ .Release.Name }}" \
    "    app.kubernetes.io/managed-by: helm-flink" "data:"
  printf '  %s: %s\n' "${now}-${stop:0:8}" "$(quote "$entry")"
  for f in /etc/helm-flink/record/*; do
    if [ -f "$f" ]; then printf '  %s: %s\n' "${f##*/}" "$(quote "$(cat "$f")")"; fi
  done
} > /out/record.yaml
{{- end -}}

{{/* A kubectl container with the hook ServiceAccount's token (the pod mounts none otherwise:
     the Flink containers get no API access). (dict "ctx" $ "name" "…" "args" (list …) "mounts" (list …)) */}}
{{- define "flinksession.kubectlContainer" -}}
- name: {{ .name }}
  image: {{ .ctx.Values.submit.kubectlImage | quote }}
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
