#!/usr/bin/env bash
# /docker-entrypoint.sh of the Flink images built by ci/images.sh: the commands and environment of
# the official image's entrypoint (apache/flink-docker), so the charts behave here as they do there.
#
#   jobmanager | taskmanager | standalone-job | history-server [ARGS]   start that process in the foreground
#   help                                                                 usage
#   anything else                                                        run as given
#
# Environment: JOB_MANAGER_RPC_ADDRESS (default: hostname -f), TASK_MANAGER_NUMBER_OF_TASK_SLOTS,
# FLINK_PROPERTIES (key: value lines), ENABLE_BUILT_IN_PLUGINS (jar names in opt/, ';'-separated,
# linked into $FLINK_HOME/plugins — always there, as the official entrypoint does, whatever
# FLINK_PLUGINS_DIR says), DISABLE_JEMALLOC=true.
#
# No `set -e`: like the official entrypoint, a configuration that cannot be written (a read-only
# conf mount) is reported and the process starts with the configuration as it is.

FLINK_HOME=${FLINK_HOME:-/opt/flink}
JOB_MANAGER_RPC_ADDRESS=${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f)}

# Started as root (what the 1.x images expect), the setup runs as root and Flink as user flink.
# Its output is used unquoted: the words of a command prefix.
drop_privileges() {
  if [ "$(id -u)" = 0 ] && command -v gosu >/dev/null; then
    echo gosu flink
  fi
}

enable_plugins() {
  local plugins=$FLINK_HOME/plugins jar
  local -a jars
  IFS=';' read -ra jars <<<"$ENABLE_BUILT_IN_PLUGINS"
  for jar in "${jars[@]}"; do
    [ -n "$jar" ] || continue
    if [ ! -e "$FLINK_HOME/opt/$jar" ]; then
      echo "Plugin $jar does not exist. Exiting." >&2
      exit 1
    fi
    mkdir -p "$plugins/${jar%.jar}"
    ln -fs "$FLINK_HOME/opt/$jar" "$plugins/${jar%.jar}/"
    echo "Enabled plugin $jar"
  done
}

# set_config KEY VALUE...: Flink's own tool rewrites conf/config.yaml with the keys set.
set_config() {
  local -a args=()
  while [ $# -ge 2 ]; do
    args+=("-D$1=$2")
    shift 2
  done
  [ ${#args[@]} -gt 0 ] || return 0
  "$FLINK_HOME/bin/config-parser-utils.sh" "$FLINK_HOME/conf" "$FLINK_HOME/bin" "$FLINK_HOME/lib" "${args[@]}"
}

configure() {
  local -a options=(jobmanager.rpc.address "$JOB_MANAGER_RPC_ADDRESS" blob.server.port 6124 query.server.port 6125)
  if [ -n "$TASK_MANAGER_NUMBER_OF_TASK_SLOTS" ]; then
    options+=(taskmanager.numberOfTaskSlots "$TASK_MANAGER_NUMBER_OF_TASK_SLOTS")
  fi
  set_config "${options[@]}"

  # FLINK_PROPERTIES: one "key: value" a line; blanks are dropped (the official image does too:
  # config-parser-utils.sh would split a value at them) and ${VAR} in values is expanded.
  local line key value
  options=()
  while IFS= read -r line; do
    line=${line//[[:space:]]/}
    [ -n "$line" ] || continue
    key=${line%%:*} value=
    [[ $line == *:* ]] && value=${line#*:}
    options+=("$key" "$(envsubst <<<"$value")")
  done <<<"$FLINK_PROPERTIES"
  set_config "${options[@]}"
}

if [ "${DISABLE_JEMALLOC:-false}" = false ]; then
  jemalloc=/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2
  if [ -f "$jemalloc" ]; then
    export LD_PRELOAD=${LD_PRELOAD:+$LD_PRELOAD:}$jemalloc
  else
    echo "WARNING: $jemalloc not found: glibc's allocator is used instead."
  fi
fi

enable_plugins
configure

start() {
  local script=$1 what=$2
  shift 2
  echo "Starting $what"
  exec $(drop_privileges) "$FLINK_HOME/bin/$script" start-foreground "$@"
}

case $1 in
  help)
    echo "Usage: $(basename "$0") (jobmanager|standalone-job|taskmanager|history-server)"
    echo "    Or $(basename "$0") help"
    echo
    echo "jemalloc is the memory allocator unless DISABLE_JEMALLOC=true."
    exit 0
    ;;
  jobmanager) shift && start jobmanager.sh "Job Manager" "$@" ;;
  standalone-job) shift && start standalone-job.sh "Job Manager" "$@" ;;
  taskmanager) shift && start taskmanager.sh "Task Manager" "$@" ;;
  history-server) shift && start historyserver.sh "History Server" "$@" ;;
esac
exec $(drop_privileges) "$@"
