{{/* The Flink configuration: chart defaults under the user's flinkConfiguration, one file. */}}

{{/* The image tag: image.tag, else the chart's appVersion (its default Flink version) on Java 17. */}}
{{- define "flink.imageTag" -}}
{{- default (printf "%s-java17" .Chart.AppVersion) (toString .Values.image.tag) -}}
{{- end -}}

{{/* The Flink image: repository:tag, pinned with @digest when image.digest is set. */}}
{{- define "flink.image" -}}
{{- .Values.image.repository }}:{{ include "flink.imageTag" . }}{{ with .Values.image.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{/* Flink version: flinkVersion, else the image tag's leading major.minor. */}}
{{- define "flink.version" -}}
{{- if .Values.flinkVersion -}}
{{- .Values.flinkVersion -}}
{{- else -}}
{{- $m := regexFind "^[0-9]+\\.[0-9]+(\\.[0-9]+)?" (include "flink.imageTag" .) -}}
{{- if not $m -}}
{{- fail (printf "image.tag %q names no Flink version: set flinkVersion (e.g. 1.20 or 2.1)" (include "flink.imageTag" .)) -}}
{{- end -}}
{{- $m -}}
{{- end -}}
{{- end -}}

{{/* Flink ≥1.19 reads config.yaml (standard YAML; 2.x reads nothing else); older Flink flink-conf.yaml. */}}
{{- define "flink.configFile" -}}
{{- $v := include "flink.version" . -}}
{{- $v = regexReplaceAll "^([0-9]+\\.[0-9]+)$" $v "${1}.0" -}}
{{- if semverCompare ">=1.19.0-0" $v -}}config.yaml{{- else -}}flink-conf.yaml{{- end -}}
{{- end -}}

{{/* Flink memory size (1600m, 2g) → Kubernetes quantity (1600Mi, 2Gi): Flink's units are binary. */}}
{{- define "flink.memoryQuantity" -}}
{{- $s := lower (toString .) -}}
{{- if hasSuffix "g" $s -}}{{ trimSuffix "g" $s }}Gi{{- else if hasSuffix "m" $s -}}{{ trimSuffix "m" $s }}Mi{{- else -}}{{ fail (printf "memory size %q: want e.g. 1600m or 2g" $s) }}{{- end -}}
{{- end -}}

{{- define "flink.haEnabled" -}}{{ if .Values.highAvailability.enabled }}true{{ end }}{{- end -}}

{{- define "flink.defaultConfiguration" -}}
{{- $c := dict -}}
{{- $_ := set $c "jobmanager.rpc.address" (include "flink.jobmanagerName" .) -}}
{{- $_ = set $c "jobmanager.rpc.port" 6123 -}}
{{- $_ = set $c "jobmanager.bind-host" "0.0.0.0" -}}
{{- $_ = set $c "blob.server.port" 6124 -}}
{{- $_ = set $c "rest.port" 8081 -}}
{{- $_ = set $c "rest.address" (include "flink.restServiceName" .) -}}
{{- $_ = set $c "rest.bind-address" "0.0.0.0" -}}
{{- $_ = set $c "taskmanager.bind-host" "0.0.0.0" -}}
{{- $_ = set $c "taskmanager.rpc.port" 6122 -}}
{{- $_ = set $c "taskmanager.data.port" 6121 -}}
{{- $_ = set $c "taskmanager.numberOfTaskSlots" (int .Values.taskmanager.numberOfTaskSlots) -}}
{{- $_ = set $c "jobmanager.memory.process.size" .Values.jobmanager.memoryProcessSize -}}
{{- $_ = set $c "taskmanager.memory.process.size" .Values.taskmanager.memoryProcessSize -}}
{{- $_ = set $c "io.tmp.dirs" "/tmp" -}}
{{- $_ = set $c "web.tmpdir" "/tmp/flink-web" -}}
{{- /* An application cluster fetches its job's artifacts into user.artifacts.base-dir, by default
     /opt/flink/artifacts: on the read-only root file system it cannot start. */ -}}
{{- $_ = set $c "user.artifacts.base-dir" "/tmp/flink-artifacts" -}}
{{- if .Values.parallelism -}}
{{- $_ = set $c "parallelism.default" (int .Values.parallelism) -}}
{{- end -}}
{{- if .Values.reactiveMode -}}
{{- $_ = set $c "scheduler-mode" "reactive" -}}
{{- end -}}
{{- if .Values.highAvailability.enabled -}}
{{- $_ = set $c "high-availability.type" "kubernetes" -}}
{{- $_ = set $c "high-availability.storageDir" .Values.highAvailability.storageDir -}}
{{- $_ = set $c "kubernetes.cluster-id" (include "flink.clusterId" .) -}}
{{- $_ = set $c "kubernetes.namespace" .Release.Namespace -}}
{{- end -}}
{{- /* A job that loses a TaskManager (a scale-down, a node drain) restarts instead of failing
     for good: without checkpointing Flink's own default is no restart at all. A restart
     strategy the user sets, under either key, wins. */ -}}
{{- $user := default (dict) .Values.flinkConfiguration -}}
{{- if not (or (hasKey $user "restart-strategy.type") (hasKey $user "restart-strategy")) -}}
{{- $_ = set $c "restart-strategy.type" "exponential-delay" -}}
{{- end -}}
{{- if .Values.persistence.enabled -}}
{{- $_ = set $c "state.savepoints.dir" (printf "file://%s/savepoints" (trimSuffix "/" .Values.persistence.mountPath)) -}}
{{- $_ = set $c "state.checkpoints.dir" (printf "file://%s/checkpoints" (trimSuffix "/" .Values.persistence.mountPath)) -}}
{{- if not (hasKey .Values "job") -}}
{{- /* A session's uploaded jars on the claim: a JobManager that replaces this one lists them
     again, so that a job stopped with a savepoint for an upgrade or a rollback runs again from
     its jar (helm flink upgrade and rollback do). */ -}}
{{- $_ = set $c "web.upload.dir" (printf "%s/uploads" (trimSuffix "/" .Values.persistence.mountPath)) -}}
{{- end -}}
{{- end -}}
{{- /* The chart's ConfigMap replaces the image's conf folder and with it the env.java.opts.all
     of Flink's default configuration, the module options Java 17 needs (jobs fail with
     InaccessibleObjectException without them). Flink's scripts put env.java.default-opts.all
     before env.java.opts.all, so a user's env.java.opts.all adds to them (and a user's
     env.java.default-opts.all replaces them, as any default). */ -}}
{{- $_ = set $c "env.java.default-opts.all" (include "flink.javaModuleOptions" .) -}}
{{- if .Values.metrics.enabled -}}
{{- $_ = set $c "metrics.reporter.prom.factory.class" "org.apache.flink.metrics.prometheus.PrometheusReporterFactory" -}}
{{- $_ = set $c "metrics.reporter.prom.port" (int .Values.metrics.port) -}}
{{- end -}}
{{- if hasKey .Values "job" -}}
{{- /* The application's JobManager stays up after the job ends: its Deployment would restart it
     and run the job again (in native mode Flink would delete that Deployment, which Helm owns).
     The job's final state stays on the REST API. */ -}}
{{- $_ = set $c "execution.shutdown-on-application-finish" false -}}
{{- end -}}
{{- if include "flink.native" . -}}
{{- $_ = merge $c (include "flink.nativeConfiguration" . | fromYaml) -}}
{{- end -}}
{{- $_ = merge $c (include "flink.storageConfiguration" . | fromYaml) -}}
{{- toYaml $c -}}
{{- end -}}

{{/* env.java.opts.all of Flink 1.20.0's default config.yaml: 2.3.0's list and
     --add-exports=java.base/sun.net.util=ALL-UNNAMED. */}}
{{- define "flink.javaModuleOptions" -}}
{{- $exports := list "java.base/sun.net.util" "java.rmi/sun.rmi.registry" "jdk.compiler/com.sun.tools.javac.api" "jdk.compiler/com.sun.tools.javac.file" "jdk.compiler/com.sun.tools.javac.parser" "jdk.compiler/com.sun.tools.javac.tree" "jdk.compiler/com.sun.tools.javac.util" "java.security.jgss/sun.security.krb5" -}}
{{- $opens := list "java.lang" "java.net" "java.io" "java.nio" "sun.nio.ch" "java.lang.reflect" "java.text" "java.time" "java.util" "java.util.concurrent" "java.util.concurrent.atomic" "java.util.concurrent.locks" -}}
{{- $opts := list -}}
{{- range $exports }}{{ $opts = append $opts (printf "--add-exports=%s=ALL-UNNAMED" .) }}{{ end -}}
{{- range $opens }}{{ $opts = append $opts (printf "--add-opens=java.base/%s=ALL-UNNAMED" .) }}{{ end -}}
{{- join " " $opts -}}
{{- end -}}

{{/* What native mode adds: where the JobManager's resource manager creates TaskManager pods (its
     namespace, the Deployment named after the cluster id that owns them, image, ServiceAccount,
     the TaskManager pod template), their CPU, how many and for how long. The memory is
     taskmanager.memory.process.size; the rpc port stays fixed (Flink refuses 0 there). */}}
{{- define "flink.nativeConfiguration" -}}
{{- $c := dict -}}
{{- $n := .Values.native -}}
{{- $_ := set $c "execution.target" (ternary "kubernetes-application" "kubernetes-session" (hasKey .Values "job")) -}}
{{- $_ = set $c "kubernetes.cluster-id" (include "flink.clusterId" .) -}}
{{- $_ = set $c "kubernetes.namespace" .Release.Namespace -}}
{{- $_ = set $c "kubernetes.container.image.ref" (include "flink.image" .) -}}
{{- $_ = set $c "kubernetes.container.image.pull-policy" .Values.image.pullPolicy -}}
{{- $_ = set $c "kubernetes.service-account" (include "flink.serviceAccountName" .) -}}
{{- $_ = set $c "kubernetes.pod-template-file.taskmanager" (include "flink.podTemplateFile" .) -}}
{{- $_ = set $c "kubernetes.taskmanager.cpu.amount" (include "flink.cpuCores" .Values.taskmanager.cpu | float64) -}}
{{- $_ = set $c "resourcemanager.taskmanager-timeout" (toString $n.taskManagerTimeout) -}}
{{- if .Values.highAvailability.enabled -}}
{{- /* A successor JobManager takes over the TaskManager pods of the one before only when they
     register within this time; Flink's default 0 makes it ask for new pods at once when they
     are a moment late, as under load. Waiting costs nothing when they are gone: a worker whose
     pod ends is no longer waited for. */}}
{{- $_ = set $c "resourcemanager.previous-worker.recovery.timeout" "2min" -}}
{{- end -}}
{{- $slots := int .Values.taskmanager.numberOfTaskSlots -}}
{{- with int $n.minTaskManagers -}}
{{- $_ = set $c "slotmanager.number-of-slots.min" (mul . $slots) -}}
{{- end -}}
{{- with int $n.maxTaskManagers -}}
{{- $_ = set $c "slotmanager.number-of-slots.max" (mul . $slots) -}}
{{- end -}}
{{- with .Values.job -}}
{{- /* Native application mode reads its job from the configuration (kubernetes-jobmanager.sh takes
     only -D options). */}}
{{- $_ = set $c "pipeline.jars" (printf "local://%s" (include "flink.jobJarPath" $)) -}}
{{- $_ = set $c "$internal.application.main" .entryClass -}}
{{- with .args -}}
{{- $_ = set $c "$internal.application.program-args" . -}}
{{- end -}}
{{- $_ = set $c "$internal.pipeline.job-id" (include "flinkjob.jobId" $) -}}
{{- /* Flink 1.20 renamed execution.savepoint.* to execution.state-recovery.*. */}}
{{- $recovery := ternary "execution.state-recovery" "execution.savepoint" (semverCompare ">=1.20.0-0" (regexReplaceAll "^([0-9]+\\.[0-9]+)$" (include "flink.version" $) "${1}.0")) -}}
{{- with .fromSavepoint -}}
{{- $_ = set $c (printf "%s.path" $recovery) . -}}
{{- end -}}
{{- if .allowNonRestoredState -}}
{{- $_ = set $c (printf "%s.ignore-unclaimed-state" $recovery) true -}}
{{- end -}}
{{- /* The job's master asks for the resource manager while it is still starting, and retries
     after cluster.registration.error-delay (10 s by default): the job would wait that long
     for its first TaskManager. */}}
{{- $_ = set $c "cluster.registration.error-delay" 1000 -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* Kubernetes CPU quantity (1, 0.5, 500m) → Flink's cores (1.0, 0.5). */}}
{{- define "flink.cpuCores" -}}
{{- $s := toString . -}}
{{- if hasSuffix "m" $s -}}{{ divf (trimSuffix "m" $s | float64) 1000 }}{{- else if regexMatch "^[0-9]+(\\.[0-9]+)?$" $s -}}{{ $s }}{{- else -}}{{ fail (printf "taskmanager.cpu %q: native mode passes it to Flink as cores, want e.g. 1, 0.5 or 500m" $s) }}{{- end -}}
{{- end -}}

{{/* Where the JobManager reads the TaskManager pod template (kubernetes.pod-template-file.taskmanager). */}}
{{- define "flink.podTemplateFile" -}}/opt/flink/pod-template/taskmanager-pod-template.yaml{{- end -}}

{{/* The merged configuration as flat dotted keys; the user's flinkConfiguration wins. */}}
{{- define "flink.configuration" -}}
{{- $defaults := include "flink.defaultConfiguration" . | fromYaml -}}
{{- toYaml (merge (dict) (deepCopy (default (dict) .Values.flinkConfiguration)) $defaults) -}}
{{- end -}}

{{- define "flink.configData" -}}
{{- $file := include "flink.configFile" . -}}
{{ $file }}: |
{{- if eq $file "config.yaml" }}
{{ include "flink.configuration" . | indent 2 }}
{{- else }}
{{- range $k, $v := include "flink.configuration" . | fromYaml }}
  {{ $k }}: {{ if kindIs "slice" $v }}{{ join ";" $v }}{{ else }}{{ $v }}{{ end }}
{{- end }}
{{- end }}
log4j-console.properties: |
{{ default (include "flink.defaultLog4j" .) .Values.log4j | trim | indent 2 }}
{{- if include "flink.native" . }}
{{ base (include "flink.podTemplateFile" .) }}: |
{{ include "flink.taskmanagerPodTemplate" . | replace (include "flink.taskmanagerTemplatePlaceholder" .) (include "flink.taskmanagerTemplateHash" .) | indent 2 }}
{{- end }}
{{- end -}}

{{/* Native mode: a hash of what the TaskManager pods Flink creates run (the Flink configuration
     and their pod template), on those pods and on the JobManager that creates them. The pod
     template holds a placeholder where the hash goes, so the hash does not hash itself. After an
     upgrade the TaskManager pods of another hash are the previous JobManager's
     (flink.nativeRetire deletes them). */}}
{{- define "flink.taskmanagerTemplatePlaceholder" -}}taskmanager-template-hash{{- end -}}
{{- define "flink.taskmanagerTemplateHash" -}}
{{- printf "%s\n%s" (include "flink.configuration" .) (include "flink.taskmanagerPodTemplate" .) | sha256sum | trunc 16 -}}
{{- end -}}

{{- define "flink.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "flink.configName" . }}
  namespace: {{ .Release.Namespace | toYaml }}
  labels:
    {{- include "flink.labels" . | nindent 4 }}
data:
  {{- include "flink.configData" . | nindent 2 }}
{{- end -}}

{{/* Rolls the pods when (and only when) the Flink configuration changes. */}}
{{- define "flink.configChecksum" -}}
{{- include "flink.configData" . | sha256sum -}}
{{- end -}}

{{- define "flink.defaultLog4j" -}}
# Console logging, as the official image configures it; kubectl logs shows it.
monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
{{- end -}}
