{{/* Object storage: Flink's file system plugins from the image's opt/, their settings and credentials.
     The table and the rules are schema.FileSystems and schema.StorageOf in the plugin's Go code
     (helm flink validate); charts/storage_test.go holds the two together. */}}

{{/* plugin → its schemes, whether the S3 key pair Secret serves it, the cloud identity annotation. */}}
{{- define "flink.fileSystems" -}}
- {plugin: s3-fs-presto, schemes: [s3, s3p], secret: true, identity: eks.amazonaws.com/role-arn}
- {plugin: s3-fs-hadoop, schemes: [s3, s3a], secret: true, identity: eks.amazonaws.com/role-arn}
- {plugin: gs-fs-hadoop, schemes: [gs], identity: iam.gke.io/gcp-service-account}
- {plugin: azure-fs-hadoop, schemes: [abfs, abfss, wasb, wasbs], identity: azure.workload.identity/client-id}
- {plugin: oss-fs-hadoop, schemes: [oss]}
{{- end -}}

{{/* The values naming where the release keeps or reads state, value path → URI. */}}
{{- define "flink.stateLocations" -}}
{{- $v := .Values -}}
{{- $conf := default dict $v.flinkConfiguration -}}
{{- $out := dict -}}
{{- range $k := list "state.savepoints.dir" "state.checkpoints.dir" "execution.checkpointing.savepoint-dir" "execution.checkpointing.dir" "high-availability.storageDir" -}}
{{- with index $conf $k -}}
{{- $_ := set $out (printf "flinkConfiguration.%s" $k) (toString .) -}}
{{- end -}}
{{- end -}}
{{- if and $v.highAvailability.enabled $v.highAvailability.storageDir (not (hasKey $out "flinkConfiguration.high-availability.storageDir")) -}}
{{- $_ := set $out "highAvailability.storageDir" (toString $v.highAvailability.storageDir) -}}
{{- end -}}
{{- with $v.periodicSavepoints -}}
{{- if and .enabled .dir -}}
{{- $_ := set $out "periodicSavepoints.dir" (toString .dir) -}}
{{- end -}}
{{- end -}}
{{- with $v.job -}}
{{- with .fromSavepoint -}}
{{- $_ := set $out "job.fromSavepoint" (toString .) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* A URI's lower-case scheme, "" for a path. */}}
{{- define "flink.uriScheme" -}}
{{- $m := regexFind "^\\s*[A-Za-z][A-Za-z0-9+.-]*://" . -}}
{{- lower (trimSuffix "://" (trim $m)) -}}
{{- end -}}

{{/* The plugins the pods enable (objectStorage.plugins), in the table's order. */}}
{{- define "flink.fsPlugins" -}}
{{- $listed := default list .Values.objectStorage.plugins -}}
{{- $out := list -}}
{{- range include "flink.fileSystems" . | fromYamlArray }}{{ if has .plugin $listed }}{{ $out = append $out .plugin }}{{ end }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* With objectStorage.plugins set, refuses a state location the pods could not use: s3:// with both
     S3 plugins, or no credentials for its file system. The words are schema.Storage.Writable's.
     Without plugins the chart renders as before 0.6 (an image may carry a plugin under plugins/,
     the nodes the credentials): NOTES warns, `helm flink` refuses. */}}
{{- define "flink.checkObjectStorage" -}}
{{- $v := .Values -}}
{{- $plugins := include "flink.fsPlugins" . | fromYamlArray -}}
{{- if $plugins -}}
{{- $table := include "flink.fileSystems" . | fromYamlArray -}}
{{- $creds := $v.objectStorage.credentials -}}
{{- $annotations := default dict $v.serviceAccount.annotations -}}
{{- $locs := include "flink.stateLocations" . | fromYaml -}}
{{- range $at := keys $locs | sortAlpha -}}
{{- $uri := index $locs $at -}}
{{- $scheme := include "flink.uriScheme" $uri -}}
{{- $serving := list -}}
{{- range $table }}{{ if and (has $scheme .schemes) (has .plugin $plugins) }}{{ $serving = append $serving . }}{{ end }}{{ end -}}
{{- if gt (len $serving) 1 -}}
{{- fail (printf "%s: s3:// is served by both s3-fs-presto and s3-fs-hadoop, and Flink picks either (got %q, want s3p://… (s3-fs-presto, for checkpoints and savepoints) or s3a://… (s3-fs-hadoop))" $at $uri) -}}
{{- end -}}
{{- with $serving -}}
{{- $fs := first . -}}
{{- $identity := and $fs.identity (index $annotations $fs.identity) -}}
{{- if not (or $creds.fromEnvironment $identity (and $fs.secret $creds.secretName)) -}}
{{- $want := list -}}
{{- if $fs.secret }}{{ $want = append $want "objectStorage.credentials.secretName (a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" }}{{ end -}}
{{- if $fs.identity }}{{ $want = append $want (printf "serviceAccount.annotations.%s (the pods' cloud identity)" $fs.identity) }}{{ end -}}
{{- $want = append $want "objectStorage.credentials.fromEnvironment: true (the nodes provide them)" -}}
{{- fail (printf "%s: no credentials for %s:// (%s): Flink fails at the first checkpoint or savepoint (got %q, want %s)" $at $scheme $fs.plugin $uri (join ", or " $want)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* NOTES: state on an object store no enabled plugin serves. */}}
{{- define "flink.storageNotes" -}}
{{- $plugins := include "flink.fsPlugins" . | fromYamlArray -}}
{{- $table := include "flink.fileSystems" . | fromYamlArray -}}
{{- $locs := include "flink.stateLocations" . | fromYaml -}}
{{- range $at := keys $locs | sortAlpha -}}
{{- $scheme := include "flink.uriScheme" (index $locs $at) -}}
{{- $serving := list -}}
{{- $enabled := false -}}
{{- range $table }}{{ if has $scheme .schemes }}{{ $serving = append $serving .plugin }}{{ if has .plugin $plugins }}{{ $enabled = true }}{{ end }}{{ end }}{{ end -}}
{{- if and $serving (not $enabled) }}
WARNING: {{ $at }} is on {{ $scheme }}://, and objectStorage.plugins enables no file system for it
({{ join " or " $serving }}): unless the image has one under /opt/flink/plugins, Flink fails at the
first checkpoint or savepoint ("Could not find a file system implementation for scheme '{{ $scheme }}'").
{{- end }}
{{- end -}}
{{- end -}}

{{/* Flink options of the object stores: the S3 endpoint and path-style access, which both S3
     plugins read (Flink mirrors s3.* to presto.s3.* and fs.s3a.*). */}}
{{- define "flink.storageConfiguration" -}}
{{- $s3 := .Values.objectStorage.s3 -}}
{{- $c := dict -}}
{{- with $s3.endpoint }}{{ $_ := set $c "s3.endpoint" . }}{{ end -}}
{{- if $s3.pathStyleAccess }}{{ $_ := set $c "s3.path.style.access" true }}{{ end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* Where the pods' plugins are: a volume, as the root file system is read-only. */}}
{{- define "flink.pluginsDir" -}}/opt/flink/plugins-enabled{{- end -}}

{{/* What object storage adds to every Flink pod (JobManager, TaskManager, the TaskManagers Flink
     creates): the env (FLINK_PLUGINS_DIR, the key pair from the Secret), and with plugins an init
     container, of the Flink image, that links the image's plugins/ and the enabled jars of opt/
     into the plugins volume. Renders a dict: env, initContainers, volumes, mounts. */}}
{{- define "flink.storagePieces" -}}
{{- $v := .Values -}}
{{- $out := dict "env" list "initContainers" list "volumes" list "mounts" list -}}
{{- $creds := $v.objectStorage.credentials -}}
{{- $env := list -}}
{{- with $creds.secretName -}}
{{- $env = append $env (dict "name" "AWS_ACCESS_KEY_ID" "valueFrom" (dict "secretKeyRef" (dict "name" . "key" $creds.accessKeyIdKey))) -}}
{{- $env = append $env (dict "name" "AWS_SECRET_ACCESS_KEY" "valueFrom" (dict "secretKeyRef" (dict "name" . "key" $creds.secretAccessKeyKey))) -}}
{{- end -}}
{{- with include "flink.fsPlugins" . | fromYamlArray -}}
{{- $dir := include "flink.pluginsDir" $ -}}
{{- $env = prepend $env (dict "name" "FLINK_PLUGINS_DIR" "value" $dir) -}}
{{- $mount := dict "name" "plugins" "mountPath" $dir -}}
{{- $init := dict "name" "enable-plugins" "image" (include "flink.image" $) "imagePullPolicy" $v.image.pullPolicy "command" (list "sh" "-c" (include "flink.pluginsScript" $)) "env" (list (dict "name" "FLINK_PLUGINS_DIR" "value" $dir) (dict "name" "PLUGINS" "value" (join " " .))) "terminationMessagePolicy" "FallbackToLogsOnError" "volumeMounts" (list $mount) "securityContext" $v.securityContext "resources" (dict "requests" (dict "cpu" "10m" "memory" "32Mi") "limits" (dict "memory" "64Mi")) -}}
{{- $_ := set $out "initContainers" (list $init) -}}
{{- $_ = set $out "volumes" (list (dict "name" "plugins" "emptyDir" dict)) -}}
{{- $_ = set $out "mounts" (list (dict "name" "plugins" "mountPath" $dir "readOnly" true)) -}}
{{- end -}}
{{- $_ := set $out "env" $env -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The init container's script: FLINK_PLUGINS_DIR gets a folder of links per plugin of the
     image's plugins/ (the metrics reporters) and per name in PLUGINS (flink-<name>-*.jar of opt/).
     Links to files, as the image's ENABLE_BUILT_IN_PLUGINS makes: Flink lists a plugin folder's
     regular files. */}}
{{- define "flink.pluginsScript" -}}
set -eu
home=${FLINK_HOME:-/opt/flink}
for d in "$home"/plugins/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d")
  mkdir -p "$FLINK_PLUGINS_DIR/$name"
  for f in "$d"*; do ln -sf "$f" "$FLINK_PLUGINS_DIR/$name/"; done
done
for p in $PLUGINS; do
  set -- "$home"/opt/flink-"$p"-*.jar
  if [ ! -f "$1" ]; then
    echo "objectStorage.plugins: $p: this image has no $home/opt/flink-$p-<version>.jar" >&2
    exit 1
  fi
  mkdir -p "$FLINK_PLUGINS_DIR/$p"
  ln -sf "$1" "$FLINK_PLUGINS_DIR/$p/"
  echo "enabled $p: $1"
done
{{- end -}}
