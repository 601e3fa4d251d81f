# shellcheck shell=bash
# Temporal: `temporal server start-dev` on 127.0.0.1:$CHORUS_TEMPORAL_PORT (UI on
# $CHORUS_TEMPORAL_UI_PORT), persistent SQLite file in $CHORUS_STATE/temporal,
# namespaces `default` and `chorus-test`, with the project's search attributes.

TEMPORAL_BIN="$CHORUS_BIN/temporal"
TEMPORAL_DIR="$CHORUS_STATE/temporal"
TEMPORAL_DB="$TEMPORAL_DIR/temporal.db"
TEMPORAL_PIDFILE="$CHORUS_RUN/temporal.pid"
TEMPORAL_LOG="$CHORUS_LOGS/temporal.log"
TEMPORAL_ADDRESS_LOCAL="$CHORUS_HOST:$CHORUS_TEMPORAL_PORT"
TEMPORAL_NAMESPACES=(default chorus-test)
# A parallel test run of its own (CHORUS_TEST_NAMESPACE, see infra/test.sh) gets its namespace too.
if [[ -n ${CHORUS_TEST_NAMESPACE:-} && ${CHORUS_TEST_NAMESPACE} != chorus-test && ${CHORUS_TEST_NAMESPACE} != default ]]; then
  TEMPORAL_NAMESPACES+=("$CHORUS_TEST_NAMESPACE")
fi
TEMPORAL_SEARCH_ATTRIBUTES=(
  ChorusUserId=Keyword
  ChorusConversationId=Keyword
  ChorusProviders=KeywordList
  ChorusStatus=Keyword
)
# SQLite's defaults (a rollback journal, fsync on every commit) made the dev server the slowest
# part of a query: ~3x fewer workflows/s than with a write-ahead log. WAL with synchronous=NORMAL
# still survives a crash of the server process (the fault suite kills it); only an OS crash or
# power loss may drop the last commits, acceptable for a local server. A file already in rollback
# mode switches to WAL when opened this way. CHORUS_TEMPORAL_SQLITE_PRAGMAS overrides the list
# (space-separated PRAGMA=VALUE, empty for SQLite's defaults).
read -ra TEMPORAL_SQLITE_PRAGMA_LIST <<<"${CHORUS_TEMPORAL_SQLITE_PRAGMAS-journal_mode=wal synchronous=normal}"
TEMPORAL_SQLITE_PRAGMAS=()
for pragma in "${TEMPORAL_SQLITE_PRAGMA_LIST[@]}"; do
  TEMPORAL_SQLITE_PRAGMAS+=(--sqlite-pragma "$pragma")
done
unset pragma
# Tasks are written to one partition of each task queue instead of four. The dev server is one
# process, and with four a task could land on a partition whose pollers were busy while another's
# waited: Temporal's own one-activity workflow at 64 in flight went from p99 3.7-4.0 s to 1.2 s at
# the same rate (infra/bench temporalbench). All four are still read, so tasks written under the
# old setting are not stranded. CHORUS_TEMPORAL_DYNAMIC_CONFIG overrides the list (space-separated
# KEY=VALUE, empty for the server's defaults).
read -ra TEMPORAL_DYNAMIC_CONFIG_LIST <<<"${CHORUS_TEMPORAL_DYNAMIC_CONFIG-matching.numTaskqueueWritePartitions=1}"
TEMPORAL_DYNAMIC_CONFIG=()
for value in "${TEMPORAL_DYNAMIC_CONFIG_LIST[@]}"; do
  TEMPORAL_DYNAMIC_CONFIG+=(--dynamic-config-value "$value")
done
unset value
TEMPORAL_START_TIMEOUT="${CHORUS_TEMPORAL_START_TIMEOUT:-90}"

# The CLI as a client of our server; ignores TEMPORAL_* env vars and the user's
# config file, so a developer's cloud profile can't redirect it.
tcli() {
  "$TEMPORAL_BIN" "$@" --address "$TEMPORAL_ADDRESS_LOCAL" \
    --disable-config-file --disable-config-env --color never
}

temporal_pid() {
  read_pid "$TEMPORAL_PIDFILE"
}

temporal_pid_alive() {
  pid_alive "$(temporal_pid)" "$TEMPORAL_DB"
}

temporal_healthy() {
  port_open "$CHORUS_TEMPORAL_PORT" || return 1
  tcli operator cluster health --command-timeout 5s 2>/dev/null | grep -q SERVING
}

# running | starting | external | stopped
temporal_state() {
  if temporal_pid_alive; then
    if temporal_healthy; then echo running; else echo starting; fi
  elif port_open "$CHORUS_TEMPORAL_PORT"; then
    echo external
  else
    echo stopped
  fi
}

# Wait until the server answers health checks and every namespace exists.
temporal_wait_ready() {
  local deadline=$((SECONDS + TEMPORAL_START_TIMEOUT)) ns ok
  while ((SECONDS < deadline)); do
    if ! temporal_pid_alive; then
      show_log_tail "$TEMPORAL_LOG"
      die "the Temporal dev server exited during startup; see $TEMPORAL_LOG"
    fi
    if temporal_healthy; then
      ok=1
      for ns in "${TEMPORAL_NAMESPACES[@]}"; do
        tcli operator namespace describe --namespace "$ns" --command-timeout 5s >/dev/null 2>&1 || ok=0
      done
      ((ok)) && return 0
    fi
    sleep 1
  done
  show_log_tail "$TEMPORAL_LOG"
  die "the Temporal dev server (pid $(temporal_pid)) was not ready on $TEMPORAL_ADDRESS_LOCAL after ${TEMPORAL_START_TIMEOUT}s; see $TEMPORAL_LOG"
}

# Keyword -> INDEXED_VALUE_TYPE_KEYWORD, KeywordList -> INDEXED_VALUE_TYPE_KEYWORD_LIST
temporal_sa_enum() {
  printf 'INDEXED_VALUE_TYPE_%s' "$(printf '%s' "$1" | sed -E 's/([a-z])([A-Z])/\1_\2/g' | tr '[:lower:]' '[:upper:]')"
}

temporal_ensure_namespaces() {
  local ns
  for ns in "${TEMPORAL_NAMESPACES[@]}"; do
    tcli operator namespace describe --namespace "$ns" --command-timeout 10s >/dev/null 2>&1 && continue
    log "temporal: creating namespace $ns"
    tcli operator namespace create --namespace "$ns" --command-timeout 30s >/dev/null ||
      die "temporal: could not create namespace $ns"
  done
}

# Register the custom search attributes in every namespace (only missing ones; the
# create command is itself idempotent for an attribute of the same type).
temporal_ensure_search_attributes() {
  local ns sa name type enum list pass
  local -a create
  for ns in "${TEMPORAL_NAMESPACES[@]}"; do
    for pass in 1 2; do
      # A namespace just created reaches the server's namespace cache some seconds later.
      local tries=0
      until list=$(tcli operator search-attribute list --namespace "$ns" -o json --command-timeout 10s 2>&1); do
        ((++tries < 30)) || die "temporal: cannot list search attributes of namespace $ns: $list"
        sleep 1
      done
      create=()
      for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
        name=${sa%%=*} type=${sa#*=}
        enum=$(temporal_sa_enum "$type")
        if grep -q "\"$name\": *\"$enum\"" <<<"$list"; then
          continue
        elif grep -q "\"$name\":" <<<"$list"; then
          die "temporal: search attribute $name already exists in namespace $ns with another type (wanted $type); see: $TEMPORAL_BIN operator search-attribute list --namespace $ns --address $TEMPORAL_ADDRESS_LOCAL"
        fi
        create+=(--name "$name" --type "$type")
      done
      ((${#create[@]})) || continue 2
      if ((pass == 2)); then
        die "temporal: search attributes still missing in namespace $ns after creating them: ${create[*]}"
      fi
      log "temporal: adding search attributes to namespace $ns: ${create[*]}"
      tcli operator search-attribute create --namespace "$ns" "${create[@]}" --command-timeout 30s >/dev/null ||
        die "temporal: could not create search attributes in namespace $ns"
    done
  done
}

temporal_start() {
  [[ -x $TEMPORAL_BIN ]] || die "the Temporal CLI is not installed at $TEMPORAL_BIN; run: infra/stack.sh install"
  local state pid ns sa
  local -a args
  state=$(temporal_state)
  case $state in
    running)
      log "temporal: already running (pid $(temporal_pid), $TEMPORAL_ADDRESS_LOCAL)"
      temporal_ensure_namespaces
      ;;
    starting)
      log "temporal: pid $(temporal_pid) is starting, waiting"
      temporal_wait_ready
      ;;
    external)
      temporal_healthy ||
        die "port $CHORUS_TEMPORAL_PORT is in use by another process ($(port_owner "$CHORUS_TEMPORAL_PORT")) that is not a healthy Temporal server; stop it first"
      warn "temporal: $TEMPORAL_ADDRESS_LOCAL is served by a server not started from this checkout ($(port_owner "$CHORUS_TEMPORAL_PORT")); using it"
      temporal_ensure_namespaces
      ;;
    stopped)
      pid=$(temporal_pid)
      if [[ -n $pid ]]; then
        warn "removing stale $TEMPORAL_PIDFILE (pid $pid is not a running Temporal server)"
        rm -f "$TEMPORAL_PIDFILE"
      fi
      port_open "$CHORUS_TEMPORAL_UI_PORT" &&
        die "the Temporal UI port $CHORUS_TEMPORAL_UI_PORT is in use by another process ($(port_owner "$CHORUS_TEMPORAL_UI_PORT")); stop it first"
      mkdir -p "$TEMPORAL_DIR"
      args=(server start-dev
        --ip "$CHORUS_HOST" --port "$CHORUS_TEMPORAL_PORT" --ui-port "$CHORUS_TEMPORAL_UI_PORT"
        --db-filename "$TEMPORAL_DB" --log-level warn --color never
        --disable-config-file --disable-config-env
        "${TEMPORAL_SQLITE_PRAGMAS[@]}" "${TEMPORAL_DYNAMIC_CONFIG[@]}")
      # --namespace / --search-attribute apply only to namespaces created at this
      # launch (first start); temporal_ensure_search_attributes covers the rest.
      for ns in "${TEMPORAL_NAMESPACES[@]}"; do
        [[ $ns == default ]] || args+=(--namespace "$ns")
      done
      for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
        args+=(--search-attribute "$sa")
      done
      # No internet here: don't let the UI fetch its news feed (flag exists from CLI 1.6 on).
      if "$TEMPORAL_BIN" server start-dev --help 2>/dev/null | grep -q -- --ui-disable-news-fetch; then
        args+=(--ui-disable-news-fetch)
      fi
      log "temporal: starting dev server on $TEMPORAL_ADDRESS_LOCAL, UI http://$CHORUS_HOST:$CHORUS_TEMPORAL_UI_PORT (log $TEMPORAL_LOG)"
      printf '\n==== %s temporal %s\n' "$(date '+%F %T')" "${args[*]}" >>"$TEMPORAL_LOG"
      # No job control in a script, so the child is not a group leader and
      # setsid execs in place: $! is the server's pid.
      setsid nohup "$TEMPORAL_BIN" "${args[@]}" </dev/null >>"$TEMPORAL_LOG" 2>&1 &
      echo $! >"$TEMPORAL_PIDFILE"
      temporal_wait_ready
      ;;
  esac
  temporal_ensure_search_attributes
}

temporal_stop() {
  local pid
  pid=$(temporal_pid)
  if temporal_pid_alive; then
    log "temporal: stopping (pid $pid)"
    stop_pid "$pid" 30 || die "could not stop the Temporal dev server (pid $pid)"
  fi
  rm -f "$TEMPORAL_PIDFILE"
}

temporal_status() {
  local state pid=""
  state=$(temporal_state)
  [[ $state == running || $state == starting ]] && pid=$(temporal_pid)
  status_line temporal "$state" "$pid" "$TEMPORAL_ADDRESS_LOCAL" "UI http://$CHORUS_HOST:$CHORUS_TEMPORAL_UI_PORT, namespaces ${TEMPORAL_NAMESPACES[*]}"
}
