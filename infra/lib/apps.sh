# shellcheck shell=bash disable=SC2034 # APP_NAMES is used by stack.sh
# The two Spring Boot apps, run from their executable jars:
#   worker: workflow-worker/target/workflow-worker-*.jar  (actuator on :$CHORUS_WORKER_PORT)
#   api:    api-server/target/api-server-*.jar            (HTTP + actuator on :$CHORUS_API_PORT)
# The environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, SPRING_PROFILES_ACTIVE, ...)
# is passed through untouched. JVM flags: CHORUS_APP_JVM_FLAGS (the collector, see java.sh), then
# CHORUS_JAVA_OPTS.
#
# CHORUS_WORKERS=N (default 1) runs N workers: worker, worker2 ... workerN, worker K with its
# actuator on CHORUS_WORKER_PORT+K-1. More than one keeps a standby polling every task queue, so
# a killed worker's activities move to a live JVM at once instead of waiting for a new one to boot.

CHORUS_WORKERS="${CHORUS_WORKERS:-1}"
[[ $CHORUS_WORKERS =~ ^[1-9][0-9]?$ ]] || die "CHORUS_WORKERS must be a number from 1 to 99 (got '$CHORUS_WORKERS')"
APP_NAMES=(worker)
for ((_k = 2; _k <= CHORUS_WORKERS; _k++)); do APP_NAMES+=("worker$_k"); done
APP_NAMES+=(api)
unset _k
APP_START_TIMEOUT="${CHORUS_APP_START_TIMEOUT:-120}"

# worker -> 1, worker2 -> 2, ...; fails for anything else.
app_worker_index() {
  case $1 in
    worker) echo 1 ;;
    worker[1-9] | worker[1-9][0-9]) echo "${1#worker}" ;;
    *) return 1 ;;
  esac
}

app_module() {
  case $1 in
    api) echo api-server ;;
    *)
      app_worker_index "$1" >/dev/null || die "unknown app '$1' (expected: worker, worker2..worker99, api)"
      echo workflow-worker
      ;;
  esac
}
app_port() {
  case $1 in
    api) echo "$CHORUS_API_PORT" ;;
    *) echo $((CHORUS_WORKER_PORT + $(app_worker_index "$1") - 1)) ;;
  esac
}
app_log() {
  case $1 in
    api) echo "$CHORUS_LOGS/api-server.log" ;;
    *) echo "$CHORUS_LOGS/$1.log" ;;
  esac
}
app_pidfile() { echo "$CHORUS_RUN/$1.pid"; }
app_health_url() { echo "http://$CHORUS_HOST:$(app_port "$1")/actuator/health"; }

# The executable (Spring Boot repackaged) jar of a module: not -plain, -sources,
# -javadoc, -tests; newest if several. From $CHORUS_JARS_DIR when set (a copy that a rebuild in
# target/ cannot change under a running JVM; the fault suite uses one), else from target/.
app_jar() {
  local module jar best="" dir
  module=$(app_module "$1")
  dir=${CHORUS_JARS_DIR:-$CHORUS_ROOT/$module/target}
  for jar in "$dir/$module"-*.jar; do
    [[ -f $jar ]] || continue
    case ${jar##*/} in
      *-plain.jar | *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;;
    esac
    if [[ -z $best || $jar -nt $best ]]; then
      best=$jar
    fi
  done
  [[ -n $best ]] || return 1
  printf '%s\n' "$best"
}

app_pid() { read_pid "$(app_pidfile "$1")"; }

app_running() {
  local jar_marker
  jar_marker="$(app_module "$1")-"
  pid_alive "$(app_pid "$1")" "$jar_marker"
}

app_healthy() {
  curl -fsS -m 3 "$(app_health_url "$1")" 2>/dev/null | grep -q '"status" *: *"UP"'
}

app_stop() {
  local name=$1 pid
  pid=$(app_pid "$name")
  if app_running "$name"; then
    log "$name: stopping (pid $pid)"
    stop_pid "$pid" 30 || die "could not stop $name (pid $pid)"
  fi
  rm -f "$(app_pidfile "$name")"
}

app_launch() {
  local name=$1 jar log port
  jar=$(app_jar "$name") ||
    die "no executable jar in ${CHORUS_JARS_DIR:-$(app_module "$name")/target/} (looked for $(app_module "$name")-*.jar); build it with: mvn -B -DskipTests package"
  log=$(app_log "$name")
  port=$(app_port "$name")
  if port_open "$port"; then
    die "port $port (for $name) is already in use by another process ($(port_owner "$port")); stop it first"
  fi
  [[ -f $log ]] && mv -f "$log" "$log.1"
  log "$name: starting ${jar#"$CHORUS_ROOT"/} (log $log)"
  # The JVM's cwd is the repo root so relative paths in the apps' config behave like `mvn spring-boot:run`.
  # Addresses follow the CHORUS_*_PORT settings (a private stack on other ports) unless set explicitly.
  # shellcheck disable=SC2086 # CHORUS_APP_JVM_FLAGS and CHORUS_JAVA_OPTS are lists of JVM flags
  (cd "$CHORUS_ROOT" &&
    export DATABASE_URL="${DATABASE_URL:-jdbc:postgresql://$CHORUS_HOST:$CHORUS_PG_PORT/chorus}" \
      REDIS_URL="${REDIS_URL:-redis://$CHORUS_HOST:$CHORUS_REDIS_PORT}" \
      TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-$CHORUS_HOST:$CHORUS_TEMPORAL_PORT}" \
      PORT="$CHORUS_API_PORT" WORKER_PORT="$port" &&
    exec setsid nohup java $CHORUS_APP_JVM_FLAGS ${CHORUS_JAVA_OPTS:-} -jar "$jar" </dev/null >>"$log" 2>&1) &
  echo $! >"$(app_pidfile "$name")"
}

app_wait_ready() {
  local name=$1 deadline=$((SECONDS + APP_START_TIMEOUT)) log
  log=$(app_log "$name")
  while ((SECONDS < deadline)); do
    if ! app_running "$name"; then
      show_log_tail "$log" 60
      die "$name exited during startup; see $log"
    fi
    if app_healthy "$name"; then
      log "$name: ready ($(app_health_url "$name"))"
      return 0
    fi
    sleep 2
  done
  show_log_tail "$log" 60
  die "$name (pid $(app_pid "$name")) was not healthy at $(app_health_url "$name") after ${APP_START_TIMEOUT}s; see $log"
}

apps_build() {
  [[ -f $CHORUS_ROOT/pom.xml ]] || die "no pom.xml in $CHORUS_ROOT; nothing to build"
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  log "building: mvn -B -q -DskipTests package (JAVA_HOME=$JAVA_HOME)"
  (cd "$CHORUS_ROOT" && mvn -B -q -Dstyle.color=never -DskipTests package) ||
    die "the build failed (mvn -B -DskipTests package); fix it and run infra/stack.sh up again"
}

# (Re)start the given apps: stop, launch all, then wait for each.
apps_restart() {
  local name
  for name in "$@"; do
    app_jar "$name" >/dev/null ||
      die "no executable jar in $(app_module "$name")/target/ (looked for $(app_module "$name")-*.jar); is the spring-boot-maven-plugin repackage goal set up? build with: mvn -B -DskipTests package"
  done
  for name in "$@"; do app_stop "$name"; done
  for name in "$@"; do app_launch "$name"; done
  for name in "$@"; do app_wait_ready "$name"; done
}

apps_stop() {
  local name pidfile
  # api first (it talks to the workers through Temporal), then every worker that has a pid file
  # (also ones started with a larger CHORUS_WORKERS than now).
  app_stop api
  for pidfile in "$CHORUS_RUN"/worker*.pid; do
    [[ -e $pidfile ]] || continue
    name=${pidfile##*/}
    name=${name%.pid}
    app_worker_index "$name" >/dev/null && app_stop "$name"
  done
}

app_status() {
  local name=$1 state pid=""
  if app_running "$name"; then
    pid=$(app_pid "$name")
    if app_healthy "$name"; then state=running; else state=starting; fi
  elif port_open "$(app_port "$name")"; then
    state=external
  else
    state=stopped
  fi
  status_line "$name" "$state" "$pid" "$CHORUS_HOST:$(app_port "$name")" "log $(app_log "$name")"
}
