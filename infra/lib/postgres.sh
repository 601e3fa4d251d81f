# shellcheck shell=bash
# PostgreSQL: a private cluster in $CHORUS_STATE/pg, on 127.0.0.1:$CHORUS_PG_PORT,
# unix socket in $CHORUS_STATE/pg/run, run as the `postgres` OS user when we are root
# (initdb and postgres refuse to run as root).
#
# Auth: local socket = trust (superuser `postgres`, used only by these scripts),
# TCP 127.0.0.1 = scram-sha-256. App role chorus/chorus owns databases chorus, chorus_test.

PG_LINK="$CHORUS_STATE/pg"
PG_LOG="$CHORUS_LOGS/postgres.log"
PG_DB_USER=chorus
PG_DB_PASSWORD=chorus
PG_DATABASES=(chorus chorus_test)
# A parallel test run of its own (CHORUS_TEST_DB, see infra/test.sh) gets its database too.
if [[ -n ${CHORUS_TEST_DB:-} && ${CHORUS_TEST_DB} != chorus_test && ${CHORUS_TEST_DB} != chorus ]]; then
  PG_DATABASES+=("$CHORUS_TEST_DB")
fi

# Paths resolved by pg_paths (PG_LINK may be a symlink, see pg_prepare_home).
PG_HOME="" PG_DATA="" PG_SOCK="" PG_LOG_REAL="" PG_BIN=""

pg_paths() {
  PG_HOME=$(readlink -f "$PG_LINK" 2>/dev/null || printf '%s' "$PG_LINK")
  PG_DATA="$PG_HOME/data"
  PG_SOCK="$PG_HOME/run"
  if [[ -L $PG_LOG ]]; then
    PG_LOG_REAL=$(readlink -f "$PG_LOG")
  else
    PG_LOG_REAL=$PG_LOG
  fi
}

# Run a command as the postgres OS user (when root), from / so it never lacks a cwd.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_chown() {
  [[ $EUID -eq 0 ]] && chown postgres: "$@"
  return 0
}

# Newest /usr/lib/postgresql/<ver>/bin that has initdb and pg_ctl, or nothing.
pg_latest_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/pg_isready && -x $d/psql ]] || continue
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1) == "$d" ]]; then
      best=$d
    fi
  done
  printf '%s' "$best"
}

# Server binaries matching the data dir's PG_VERSION, else the newest installed.
pg_find_bin() {
  local v
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    v=$(tr -dc '0-9' <"$PG_DATA/PG_VERSION")
    PG_BIN="/usr/lib/postgresql/$v/bin"
    [[ -x $PG_BIN/pg_ctl ]] ||
      die "$PG_DATA was created by PostgreSQL $v, which is not installed (apt-get install postgresql-$v), or delete $PG_LINK to start a fresh cluster"
  else
    PG_BIN=$(pg_latest_bindir)
    [[ -n $PG_BIN ]] || die "PostgreSQL is not installed; run: infra/stack.sh install"
  fi
}

# Create the cluster's folders, owned by postgres. If the postgres user cannot
# reach the state folder (e.g. a checkout under /root, mode 0700), the cluster
# goes to /var/tmp/chorus-pg-<hash> and $CHORUS_STATE/pg becomes a symlink to it.
pg_prepare_home() {
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "no 'postgres' OS user; run: infra/stack.sh install"
  fi
  [[ -e $PG_LINK ]] || mkdir -p "$PG_LINK"
  pg_paths
  mkdir -p "$PG_DATA" "$PG_SOCK"
  pg_chown "$PG_HOME" "$PG_DATA" "$PG_SOCK"
  chmod 0700 "$PG_DATA" "$PG_SOCK"
  if ! as_pg test -w "$PG_DATA" -a -x "$PG_DATA"; then
    if [[ -L $PG_LINK || -f $PG_DATA/PG_VERSION ]]; then
      die "the postgres OS user cannot access $PG_DATA; make its parent folders traversable (chmod o+x) or move the checkout"
    fi
    local alt
    alt="/var/tmp/chorus-pg-$(printf '%s' "$CHORUS_STATE" | cksum | cut -d ' ' -f 1)"
    warn "the postgres OS user cannot reach $PG_LINK (parent folder not traversable); keeping the cluster in $alt (symlinked from $PG_LINK)"
    rmdir "$PG_DATA" "$PG_SOCK" "$PG_LINK"
    mkdir -p "$alt/data" "$alt/run"
    pg_chown "$alt" "$alt/data" "$alt/run"
    chmod 0700 "$alt/data" "$alt/run"
    ln -s "$alt" "$PG_LINK"
    pg_paths
  fi
  # The server writes its log itself, so the postgres user must be able to write it.
  if [[ ! -L $PG_LOG ]]; then
    touch "$PG_LOG"
    pg_chown "$PG_LOG"
    if ! as_pg test -w "$PG_LOG"; then
      rm -f "$PG_LOG"
      touch "$PG_HOME/postgres.log"
      pg_chown "$PG_HOME/postgres.log"
      ln -s "$PG_HOME/postgres.log" "$PG_LOG"
    fi
  fi
  pg_paths
}

pg_postmaster_pid() {
  read_pid "$PG_DATA/postmaster.pid"
}

pg_ready() {
  [[ -n $PG_BIN ]] || pg_find_bin
  "$PG_BIN/pg_isready" -q -h "$CHORUS_HOST" -p "$CHORUS_PG_PORT" -t 3 >/dev/null 2>&1
}

# running | starting | external | stopped
pg_state() {
  local pid
  pid=$(pg_postmaster_pid)
  if pid_alive "$pid" "$PG_DATA"; then
    if pg_ready; then echo running; else echo starting; fi
  elif port_open "$CHORUS_PG_PORT"; then
    echo external
  else
    echo stopped
  fi
}

# Remove postmaster.pid / socket lock files whose process is gone (machine
# restart, kill -9). postgres itself refuses to start if the pid in them was
# reused by another process.
pg_clean_stale() {
  local pid lock
  if [[ -f $PG_DATA/postmaster.pid ]]; then
    pid=$(pg_postmaster_pid)
    if ! pid_alive "$pid" "$PG_DATA"; then
      warn "removing stale $PG_DATA/postmaster.pid (pid ${pid:-?} is not a postgres of this cluster)"
      rm -f "$PG_DATA/postmaster.pid"
    fi
  fi
  for lock in "$PG_SOCK"/.s.PGSQL.*.lock; do
    [[ -e $lock ]] || continue
    pid=$(read_pid "$lock")
    if ! pid_alive "$pid" "$PG_DATA"; then
      rm -f "$lock" "${lock%.lock}"
    fi
  done
}

pg_initdb() {
  log "postgres: initdb $PG_DATA ($PG_BIN)"
  if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >"$CHORUS_LOGS/postgres-initdb.log" 2>&1; then
    show_log_tail "$CHORUS_LOGS/postgres-initdb.log"
    die "initdb failed (see $CHORUS_LOGS/postgres-initdb.log)"
  fi
}

# Our settings live in data/chorus.conf (rewritten on every start), included from postgresql.conf.
pg_write_config() {
  local conf="$PG_DATA/chorus.conf" sock=${PG_SOCK//\'/\'\'}
  cat >"$conf" <<EOF
# Written by infra/stack.sh on every start - change infra/lib/postgres.sh instead.
listen_addresses = '$CHORUS_HOST'
port = $CHORUS_PG_PORT
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
max_connections = 200
EOF
  pg_chown "$conf"
  if ! grep -q "^include_if_exists = 'chorus.conf'" "$PG_DATA/postgresql.conf"; then
    printf "\n# Chorus local stack settings\ninclude_if_exists = 'chorus.conf'\n" >>"$PG_DATA/postgresql.conf"
  fi
}

pg_psql_super() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$CHORUS_PG_PORT" -U postgres -d postgres "$@"
}

pg_app_url() {
  local db=${1:-chorus}
  printf 'postgresql://%s:%s@%s:%s/%s' "$PG_DB_USER" "$PG_DB_PASSWORD" "$CHORUS_HOST" "$CHORUS_PG_PORT" "$db"
}

# Can the app role log in over TCP with its password?
pg_app_login_ok() {
  "$PG_BIN/psql" -X -q -At -c 'select 1' "$(pg_app_url "${1:-chorus_test}")" >/dev/null 2>&1
}

pg_ensure_db() {
  local dbs
  dbs=$(printf "'%s'," "${PG_DATABASES[@]}")
  pg_psql_super -At >/dev/null <<SQL || die "postgres: could not create role/databases (see $PG_LOG)"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_DB_USER') THEN
    CREATE ROLE $PG_DB_USER LOGIN CREATEDB PASSWORD '$PG_DB_PASSWORD';
  END IF;
END \$\$;
SELECT format('CREATE DATABASE %I OWNER $PG_DB_USER', d)
  FROM unnest(ARRAY[${dbs%,}]) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d) \gexec
SQL
  pg_app_login_ok chorus_test ||
    die "postgres: cannot log in as $PG_DB_USER to $(pg_app_url chorus_test) (see $PG_LOG)"
}

pg_start() {
  pg_prepare_home
  pg_find_bin
  local state i
  state=$(pg_state)
  if [[ $state == starting ]]; then
    for ((i = 0; i < 60; i++)); do
      pg_ready && break
      sleep 1
    done
    state=$(pg_state)
    [[ $state == running ]] || die "postgres (pid $(pg_postmaster_pid)) is running but not accepting connections; see $PG_LOG"
  fi
  case $state in
    running)
      log "postgres: already running (pid $(pg_postmaster_pid), $CHORUS_HOST:$CHORUS_PG_PORT)"
      ;;
    external)
      if pg_app_login_ok chorus_test; then
        warn "postgres: port $CHORUS_PG_PORT is served by a server not started from this checkout ($(port_owner "$CHORUS_PG_PORT")); using it"
        return 0
      fi
      die "port $CHORUS_PG_PORT is in use by another process ($(port_owner "$CHORUS_PG_PORT")) that does not accept $(pg_app_url chorus_test); stop it first"
      ;;
    stopped)
      [[ -f $PG_DATA/PG_VERSION ]] || pg_initdb
      pg_write_config
      pg_clean_stale
      log "postgres: starting on $CHORUS_HOST:$CHORUS_PG_PORT (log $PG_LOG)"
      if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG_REAL" -w -t 60 -s start </dev/null; then
        show_log_tail "$PG_LOG_REAL"
        die "postgres did not start; see $PG_LOG"
      fi
      ;;
  esac
  pg_ensure_db
}

pg_stop() {
  [[ -e $PG_LINK ]] || return 0
  pg_paths
  [[ -f $PG_DATA/PG_VERSION ]] || return 0
  pg_find_bin
  local pid
  pid=$(pg_postmaster_pid)
  if pid_alive "$pid" "$PG_DATA"; then
    log "postgres: stopping (pid $pid)"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop </dev/null ||
      stop_pid "$pid" 30 || die "could not stop postgres (pid $pid)"
  else
    pg_clean_stale
  fi
}

pg_status() {
  local state="stopped" pid=""
  if [[ -e $PG_LINK ]]; then
    pg_paths
    if [[ -f $PG_DATA/PG_VERSION ]]; then
      pg_find_bin
      state=$(pg_state)
      pid=$(pg_postmaster_pid)
    elif port_open "$CHORUS_PG_PORT"; then
      state=external
    fi
  elif port_open "$CHORUS_PG_PORT"; then
    state=external
  fi
  [[ $state == running || $state == starting ]] || pid=""
  status_line postgres "$state" "$pid" "$CHORUS_HOST:$CHORUS_PG_PORT" "db chorus, chorus_test (user chorus/chorus)"
}
