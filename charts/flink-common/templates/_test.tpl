{{/* `helm test` of both charts (and Flux's spec.test): passes only when the cluster is up and
     every job it runs has every task RUNNING — an application's own job, RUNNING or FINISHED —
     and, when checkpointing is on, each running job completed a checkpoint after the test
     began. A FAILED job fails it at once with Flink's root exception. Only bash from the Flink
     image (no curl): HTTP/1.0 over /dev/tcp. */}}
{{/* The JobManager's REST API from bash alone (the Flink image has no curl): HTTP/1.0 over
     /dev/tcp to $REST_ADDRESS. Used by the health test and the session's submit hooks. */}}
{{- define "flink.restFunctions" -}}
host=${REST_ADDRESS%:*} port=${REST_ADDRESS##*:} rest_from=$SECONDS
# rest METHOD PATH [JSON]: one HTTP/1.0 request; prints the response body. A new pod's
# connections may be refused until the network plugin admits its address under the release's
# NetworkPolicy (kube-router, for one, does so after the pod starts): in the script's first 15 s
# a refused connection is tried again.
rest() {
  until { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; do
    [ $((SECONDS - rest_from)) -lt 15 ] || return 1
    sleep 1
  done
  if [ $# -gt 2 ]; then
    printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' "$1" "$2" "$host" "${#3}" "$3" >&3
  else
    printf '%s %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$2" "$host" >&3
  fi
  sed '1,/^\r$/d' <&3; exec 3>&-
}
get() { rest GET "$1"; }
{{- end -}}

{{- define "flink.healthScript" -}}
set -eu
{{ include "flink.restFunctions" . }}
# field NAME JSON: the first number NAME has in JSON.
field() { echo "$2" | grep -o "\"$1\":[0-9-]*" | head -n 1 | cut -d: -f2; }
start=$(($(date +%s) * 1000))
# check: 0 healthy, 1 not yet, 2 failed for good; says why.
check() {
  local overview jobs tms job id state running total cp ack seen=
  overview=$(get /overview) || { echo "the JobManager at $REST_ADDRESS does not answer"; return 1; }
  tms=$(field taskmanagers "$overview")
  if [ "${tms:-0}" -lt "$MIN_TASKMANAGERS" ]; then echo "${tms:-0} TaskManager(s) registered, want $MIN_TASKMANAGERS"; return 1; fi
  jobs=$(get /jobs/overview) || { echo "GET /jobs/overview: no answer"; return 1; }
  while read -r job; do
    id=$(echo "$job" | grep -o '"jid":"[0-9a-f]*"' | cut -d'"' -f4)
    [ -n "$id" ] || continue
    state=$(echo "$job" | grep -o '"state":"[A-Z]*"' | cut -d'"' -f4)
    if [ -n "$JOB_ID" ] && [ "$id" != "$JOB_ID" ]; then continue; fi
    seen=1
    case $state in
      FINISHED) [ -n "$JOB_ID" ] && { echo "job $id FINISHED"; return 0; }; continue ;;
      CANCELED) [ -n "$JOB_ID" ] && { echo "job $id was CANCELED"; return 2; }; continue ;;
      FAILED)
        echo "job $id FAILED: $(get "/jobs/$id/exceptions" | grep -o '"root-exception":"[^"]*' | cut -d'"' -f4 | sed 's/\\n.*//')"
        return 2 ;;
      RUNNING) ;;
      *) echo "job $id is $state"; return 1 ;;
    esac
    running=$(field running "$job") total=$(field total "$job")
    if [ "$running" != "$total" ]; then echo "job $id RUNNING with $running of $total tasks running"; return 1; fi
    if [ "$CHECKPOINTS" = true ]; then
      cp=$(get "/jobs/$id/checkpoints") || cp=
      ack=$(field latest_ack_timestamp "$(echo "$cp" | grep -o '"latest":{"completed":{[^}]*}')")
      if [ "${ack:-0}" -le "$start" ]; then echo "job $id has completed no checkpoint since the test began"; return 1; fi
    fi
  done <<< "$(echo "$jobs" | sed 's/{"jid"/\n{"jid"/g')"
  if [ -n "$JOB_ID" ] && [ -z "$seen" ]; then echo "job $JOB_ID, the release's, is not on the JobManager"; return 1; fi
  echo "the JobManager answers with ${tms:-0} TaskManager(s) and every job's tasks running"
}
why=
for i in $(seq 1 "$TRIES"); do
  rc=0; why=$(check) || rc=$?
  case $rc in
    0) echo "healthy: $why"; exit 0 ;;
    2) echo "unhealthy: $why" >&2; exit 1 ;;
  esac
  sleep 2
done
echo "unhealthy after $((TRIES * 2))s: $why" >&2
exit 1
{{- end -}}

{{/* The health check's container, the test pod's and the health hook's. (dict "ctx" $ "jobId"
     "…" "tries" n "checkpoints" bool) — jobId "" for a session. */}}
{{- define "flink.healthContainer" -}}
{{- $ := .ctx -}}
{{- /* An application's running job implies its TaskManagers; a native session without a
     minimum has none until a job needs slots. */ -}}
{{- $minTaskManagers := "1" -}}
{{- if or .jobId (and (include "flink.native" $) (not (int (($.Values.native | default dict).minTaskManagers)))) -}}
{{- $minTaskManagers = "0" -}}
{{- end -}}
- name: health
  image: {{ include "flink.image" $ | quote }}
  {{- with include "flink.pullPolicy" $ }}{{ . | nindent 2 }}{{ end }}
  command: ["bash", "-c"]
  args:
    - |
      {{- include "flink.healthScript" $ | nindent 6 }}
  env:
    - name: REST_ADDRESS
      value: {{ include "flink.restServiceName" $ }}.{{ $.Release.Namespace }}.svc:8081
    - name: JOB_ID
      value: {{ .jobId | quote }}
    - name: MIN_TASKMANAGERS
      value: {{ $minTaskManagers | quote }}
    - name: CHECKPOINTS
      value: {{ ternary "true" "false" .checkpoints | quote }}
    - name: TRIES
      value: {{ .tries | quote }}
  resources:
    requests: {cpu: 10m, memory: 32Mi}
    limits: {memory: 64Mi}
  securityContext:
    {{- toYaml $.Values.securityContext | nindent 4 }}
{{- end -}}

{{/* The test pod. (dict "ctx" $ "jobId" "…") — jobId "" for a session. */}}
{{- define "flink.healthTest" -}}
{{- $ := .ctx -}}
{{- $tries := 90 -}}
{{- $conf := include "flink.configuration" $ | fromYaml -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "flink.fullname" $ }}-test-health
  namespace: {{ $.Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" $ "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  {{- /* Like the hook Jobs' deadline: a pod that cannot start fails, and `helm test` says so. */}}
  activeDeadlineSeconds: {{ add (mul $tries 3) (include "flink.hookStartSeconds" $) }}
  automountServiceAccountToken: false
  {{- with include "flink.pullSecrets" $ }}{{ . | nindent 2 }}{{ end }}
  securityContext:
    {{- toYaml $.Values.podSecurityContext | nindent 4 }}
  containers:
    {{- include "flink.healthContainer" (dict "ctx" $ "jobId" .jobId "tries" $tries "checkpoints" (hasKey $conf "execution.checkpointing.interval")) | nindent 4 }}
{{- end -}}

{{/* Opt-in (healthCheck.enabled): a post-install/post-upgrade hook Job that fails the release
     when its job does not get every task RUNNING within healthCheck.timeoutSeconds — a FAILED job
     at once, with Flink's root exception in the hook's log — so that `helm install --wait
     --wait-for-jobs`, Flux and Argo CD (which runs Helm's post-install/post-upgrade hooks as
     PostSync hooks) fail it. The same check as the test pod, without waiting for a checkpoint.
     (dict "ctx" $ "jobId" "…") — jobId "" for a session. */}}
{{- define "flink.healthHook" -}}
{{- $ := .ctx -}}
{{- if $.Values.healthCheck.enabled -}}
{{- $tries := max 1 (div (int $.Values.healthCheck.timeoutSeconds) 2) -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "flink.fullname" $ }}-health
  namespace: {{ $.Release.Namespace | toYaml }}
  labels:
    {{- include "flink.componentLabels" (dict "ctx" $ "component" "health") | nindent 4 }}
  annotations:
    helm.sh/hook: post-install,post-upgrade
    {{- /* After the session chart's submit hook (weight 10). */}}
    helm.sh/hook-weight: "20"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  {{- include "flink.hookJobLimits" (dict "deadline" (add (mul $tries 3) (include "flink.hookStartSeconds" $)) "backoffLimit" 0) | nindent 2 }}
  template:
    metadata:
      labels:
        {{- include "flink.stablePodLabels" (dict "ctx" $ "component" "health") | nindent 8 }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      {{- with include "flink.pullSecrets" $ }}{{ . | nindent 6 }}{{ end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      containers:
        {{- include "flink.healthContainer" (dict "ctx" $ "jobId" .jobId "tries" $tries "checkpoints" false) | nindent 8 }}
{{- end -}}
{{- end -}}
