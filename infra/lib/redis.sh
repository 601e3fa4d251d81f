# shellcheck shell=bash
# Redis: redis-server daemonized on 127.0.0.1:$CHORUS_REDIS_PORT, data (AOF + RDB)
# in $CHORUS_STATE/redis, config written to $CHORUS_STATE/redis/redis.conf.

REDIS_DIR="$CHORUS_STATE/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$CHORUS_RUN/redis.pid"
REDIS_LOG="$CHORUS_LOGS/redis.log"

redis_cli() {
  redis-cli -h "$CHORUS_HOST" -p "$CHORUS_REDIS_PORT" "$@"
}

redis_ping() {
  port_open "$CHORUS_REDIS_PORT" || return 1
  [[ $(timeout 5 redis-cli -h "$CHORUS_HOST" -p "$CHORUS_REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_pid() {
  read_pid "$REDIS_PIDFILE"
}

# running | unhealthy (our process, no PONG) | external | stopped
redis_state() {
  if pid_alive "$(redis_pid)" redis-server; then
    if redis_ping; then echo running; else echo unhealthy; fi
  elif port_open "$CHORUS_REDIS_PORT"; then
    echo external
  else
    echo stopped
  fi
}

redis_write_config() {
  # Quoted values (redis.conf syntax) so paths with spaces work.
  cat >"$REDIS_CONF" <<EOF
# Written by infra/stack.sh on every start - change infra/lib/redis.sh instead.
bind $CHORUS_HOST
port $CHORUS_REDIS_PORT
protected-mode yes
daemonize yes
supervised no
pidfile "$REDIS_PIDFILE"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
appendonly yes
appendfsync everysec
save 3600 1 300 100 60 10000
EOF
}

redis_start() {
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed; run: infra/stack.sh install"
  local pid i state
  state=$(redis_state)
  if [[ $state == unhealthy ]]; then
    # Maybe still loading its AOF: give it a moment.
    for ((i = 0; i < 50; i++)); do
      redis_ping && break
      sleep 0.2
    done
    state=$(redis_state)
  fi
  case $state in
    running)
      log "redis: already running (pid $(redis_pid), $CHORUS_HOST:$CHORUS_REDIS_PORT)"
      return 0
      ;;
    external)
      if redis_ping; then
        warn "redis: port $CHORUS_REDIS_PORT is served by a redis not started from this checkout ($(port_owner "$CHORUS_REDIS_PORT")); using it"
        return 0
      fi
      die "port $CHORUS_REDIS_PORT is in use by another process ($(port_owner "$CHORUS_REDIS_PORT")) that does not answer PING; stop it first"
      ;;
  esac
  pid=$(redis_pid)
  if [[ -n $pid ]]; then
    if pid_alive "$pid" redis-server; then
      # Our redis is alive but does not answer: restart it.
      warn "redis (pid $pid) does not answer PING; restarting it"
      stop_pid "$pid" 15 || true
    else
      warn "removing stale $REDIS_PIDFILE (pid $pid is not a running redis-server)"
    fi
    rm -f "$REDIS_PIDFILE"
  fi
  mkdir -p "$REDIS_DIR"
  redis_write_config
  log "redis: starting on $CHORUS_HOST:$CHORUS_REDIS_PORT (log $REDIS_LOG)"
  if ! redis-server "$REDIS_CONF" </dev/null >>"$REDIS_LOG" 2>&1; then
    show_log_tail "$REDIS_LOG"
    die "redis-server failed to start; see $REDIS_LOG"
  fi
  for ((i = 0; i < 100; i++)); do
    # Loading a big AOF can take a while: wait for PONG (not LOADING).
    if redis_ping; then
      return 0
    fi
    sleep 0.2
  done
  show_log_tail "$REDIS_LOG"
  die "redis did not answer PING on $CHORUS_HOST:$CHORUS_REDIS_PORT within 20s; see $REDIS_LOG"
}

redis_stop() {
  local pid
  pid=$(redis_pid)
  if pid_alive "$pid" redis-server; then
    log "redis: stopping (pid $pid)"
    # SHUTDOWN persists (RDB save); fall back to TERM (redis also saves on TERM).
    timeout 20 redis-cli -h "$CHORUS_HOST" -p "$CHORUS_REDIS_PORT" shutdown >/dev/null 2>&1 || true
    stop_pid "$pid" 30 || die "could not stop redis (pid $pid)"
  fi
  rm -f "$REDIS_PIDFILE"
}

redis_status() {
  local state pid=""
  state=$(redis_state)
  [[ $state == running || $state == unhealthy ]] && pid=$(redis_pid)
  status_line redis "$state" "$pid" "$CHORUS_HOST:$CHORUS_REDIS_PORT" ""
}
