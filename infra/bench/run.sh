#!/usr/bin/env bash
# Chorus benchmarks. One command per scenario; each starts what it needs (the fake LLM server, the
# worker and api-server from their built jars, the LiteLLM proxy), measures Chorus beside its peers
# (direct calls to the fake server, LiteLLM) and writes report.md, results.json and latency.png.
#
#   infra/bench/run.sh ttft        added time to first token at 20 queries/s (Chorus, direct, LiteLLM)
#   infra/bench/run.sh sustained   highest query rate whose p99 added TTFT stays under a bound
#   infra/bench/run.sh streams     concurrent streams held with no gap > 2x the chunk interval
#   infra/bench/run.sh idle        10,000 idle WebSockets: memory per connection
#   infra/bench/run.sh relay       >= 500 WebSocket clients receiving streams: relay latency, memory
#   infra/bench/run.sh temporal    Temporal's own one-activity workflow rate on the same server
#   infra/bench/run.sh all         all of the above, one report
#   infra/bench/run.sh report DIR  rebuild the report of a results folder
#   infra/bench/run.sh fakellm [FLAGS]  run the fake LLM server in the foreground (-h for flags)
#   infra/bench/run.sh build       build the Go tools only
#
# Options (after the scenario): --duration 20s  --rate 20  --rates 5,10,15,20,40,60,80  --bound 250ms
#   --streams 64,128,256,512,768  --idle 10000  --clients 500  --per-conversation 10
#   --out DIR (default $CHORUS_STATE/bench/results/<time>)  --no-litellm  --keep (leave apps running)
# Environment: BENCH_DB (chorus), BENCH_NAMESPACE (chorus-bench), BENCH_REDIS_DB (0),
#   BENCH_WARMUP (20s) at BENCH_WARMUP_RATE (5) queries/s before the first measured run, ports
#   BENCH_API_PORT (18080), BENCH_WORKER_PORT (18081), BENCH_FAKE_PORT (18090), BENCH_LITELLM_PORT (14000),
#   the fake stream: FAKE_TTFT (100ms), FAKE_CHUNKS (64), FAKE_CHUNK_BYTES (16), FAKE_INTERVAL (20ms).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib/common.sh
source "$BENCH_DIR/../lib/common.sh"
# shellcheck source=infra/lib/java.sh
source "$BENCH_DIR/../lib/java.sh"
# shellcheck source=infra/lib/temporal.sh
source "$BENCH_DIR/../lib/temporal.sh"
# shellcheck source=infra/lib/postgres.sh
source "$BENCH_DIR/../lib/postgres.sh"

BENCH_STATE="$CHORUS_STATE/bench"
# Binaries live beside the sources (target/ is git-ignored), so two checkouts never share them.
BENCH_BIN="$BENCH_DIR/target/bin"
BENCH_VENV="$BENCH_STATE/venv"
BENCH_RUN="$BENCH_STATE/run"
LITELLM_VERSION="1.102.4" # pinned; see README (1.107.0 was a compromised release)
MATPLOTLIB_VERSION="3.10.*"

BENCH_DB="${BENCH_DB:-chorus}"
BENCH_NAMESPACE="${BENCH_NAMESPACE:-chorus-bench}"
BENCH_REDIS_DB="${BENCH_REDIS_DB:-0}"
BENCH_API_PORT="${BENCH_API_PORT:-18080}"
BENCH_WORKER_PORT="${BENCH_WORKER_PORT:-18081}"
BENCH_FAKE_PORT="${BENCH_FAKE_PORT:-18090}"
BENCH_LITELLM_PORT="${BENCH_LITELLM_PORT:-14000}"
FAKE_TTFT="${FAKE_TTFT:-100ms}"
FAKE_CHUNKS="${FAKE_CHUNKS:-64}"
FAKE_CHUNK_BYTES="${FAKE_CHUNK_BYTES:-16}"
FAKE_INTERVAL="${FAKE_INTERVAL:-20ms}"
LITELLM_KEY="sk-bench-$$"

OPT_DURATION=20s OPT_RATE=20 OPT_RATES=5,10,15,20,40,60,80 OPT_BOUND=250ms
OPT_STREAMS=64,128,256,512,768 OPT_IDLE=10000 OPT_CLIENTS=500 OPT_PER_CONV=10
OPT_OUT="" OPT_LITELLM=1 OPT_KEEP=0

STARTED_PIDS=()

bench_build() {
  command -v go >/dev/null 2>&1 || die "go not found; install Go >= 1.24 (https://go.dev/dl)"
  mkdir -p "$BENCH_BIN"
  local tool
  for tool in "$BENCH_DIR"/cmd/*/; do
    tool=$(basename "$tool")
    if [[ ! -x $BENCH_BIN/$tool ]] ||
      [[ -n $(find "$BENCH_DIR/cmd/$tool" "$BENCH_DIR/go.mod" -newer "$BENCH_BIN/$tool" -print -quit 2>/dev/null) ]]; then
      log "bench: building $tool"
      (cd "$BENCH_DIR" && go build -o "$BENCH_BIN/$tool" "./cmd/$tool") || die "go build ./cmd/$tool failed"
    fi
  done
}

# The Python venv for LiteLLM and matplotlib, made once under the state folder.
bench_venv() {
  local want="litellm==$LITELLM_VERSION matplotlib"
  if [[ -x $BENCH_VENV/bin/python ]] && [[ -f $BENCH_VENV/.bench-ok ]] && [[ $(<"$BENCH_VENV/.bench-ok") == "$want" ]]; then
    return 0
  fi
  log "bench: installing litellm[proxy]==$LITELLM_VERSION and matplotlib into $BENCH_VENV (once, takes minutes)"
  [[ -x $BENCH_VENV/bin/python ]] || python3 -m venv "$BENCH_VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$BENCH_VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" "matplotlib==$MATPLOTLIB_VERSION" ||
    die "pip install litellm[proxy]==$LITELLM_VERSION matplotlib failed"
  printf '%s' "$want" >"$BENCH_VENV/.bench-ok"
}

cleanup() {
  ((OPT_KEEP)) && { log "bench: --keep: leaving ${STARTED_PIDS[*]:-nothing} running"; return 0; }
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

wait_http() { # name url seconds pid
  local name=$1 url=$2 secs=$3 pid=$4 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during startup; see $BENCH_LOGS/$name.log"
    curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null && return 0
    sleep 1
  done
  tail -n 40 "$BENCH_LOGS/$name.log" >&2 || true
  die "$name was not ready at $url after ${secs}s; see $BENCH_LOGS/$name.log"
}

start_bg() { # name command...: runs in its own session, logs to $BENCH_LOGS/name.log, sets LAST_PID
  local name=$1
  shift
  port_free_check "$name"
  setsid "$@" </dev/null >"$BENCH_LOGS/$name.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
  echo "$LAST_PID" >"$BENCH_RUN/$name.pid"
}

port_free_check() {
  local port
  case $1 in
    fakellm) port=$BENCH_FAKE_PORT ;; worker) port=$BENCH_WORKER_PORT ;; api) port=$BENCH_API_PORT ;;
    litellm) port=$BENCH_LITELLM_PORT ;; *) return 0 ;;
  esac
  if port_open "$port"; then
    die "port $port (for $1) is in use ($(port_owner "$port")); stop it or set BENCH_*_PORT"
  fi
}

start_fakellm() {
  [[ -n ${FAKE_PID:-} ]] && return 0
  start_bg fakellm "$BENCH_BIN/fakellm" -addr "127.0.0.1:$BENCH_FAKE_PORT" -ttft "$FAKE_TTFT" \
    -chunks "$FAKE_CHUNKS" -chunk-bytes "$FAKE_CHUNK_BYTES" -interval "$FAKE_INTERVAL"
  FAKE_PID=$LAST_PID
  wait_http fakellm "http://127.0.0.1:$BENCH_FAKE_PORT/healthz" 20 "$FAKE_PID"
}

app_jar_of() { # module → its executable jar
  local jar best=""
  for jar in "$CHORUS_ROOT/$1/target/$1"-*.jar; do
    [[ -f $jar ]] || continue
    case ${jar##*/} in *-plain.jar | *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;; esac
    [[ -z $best || $jar -nt $best ]] && best=$jar
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

# True when a source or pom of the given modules (or the parent pom) is newer than the jar: a
# benchmark of yesterday's build would measure the wrong code.
jar_stale() {
  local jar=$1 module
  shift
  [[ $CHORUS_ROOT/pom.xml -nt $jar ]] && return 0
  for module in "$@"; do
    [[ -n $(find "$CHORUS_ROOT/$module/src/main" "$CHORUS_ROOT/$module/pom.xml" -newer "$jar" -print -quit) ]] &&
      return 0
  done
  return 1
}

start_chorus() {
  [[ -n ${API_PID:-} ]] && return 0
  chorus_java_env "$CHORUS_JAVA_MIN" || exit 1
  local wjar ajar
  wjar=$(app_jar_of workflow-worker) && ajar=$(app_jar_of api-server) &&
    ! jar_stale "$wjar" shared-model workflow-worker && ! jar_stale "$ajar" shared-model api-server || {
    log "bench: building the jars (mvn -B -q -DskipTests package)"
    (cd "$CHORUS_ROOT" && mvn -B -q -DskipTests package) || die "mvn package failed"
    wjar=$(app_jar_of workflow-worker) && ajar=$(app_jar_of api-server) || die "no jars after the build"
  }
  # The benchmark's own database (created if missing, like the stack's) and namespace, so a
  # running stack's worker never takes its tasks.
  pg_paths
  pg_find_bin
  PG_DATABASES=(chorus chorus_test "$BENCH_DB")
  pg_ensure_db
  TEMPORAL_NAMESPACES=("$BENCH_NAMESPACE")
  temporal_ensure_namespaces
  temporal_ensure_search_attributes
  local keyfile="$BENCH_STATE/master.key"
  [[ -s $keyfile ]] || (umask 077 && printf 'kbench:%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" >"$keyfile")
  local -a env=(
    DATABASE_URL="jdbc:postgresql://$CHORUS_HOST:$CHORUS_PG_PORT/$BENCH_DB"
    REDIS_URL="redis://$CHORUS_HOST:$CHORUS_REDIS_PORT/$BENCH_REDIS_DB"
    TEMPORAL_ADDRESS="$CHORUS_HOST:$CHORUS_TEMPORAL_PORT" TEMPORAL_NAMESPACE="$BENCH_NAMESPACE"
    CHORUS_KEY_PREFIX="bench" CHORUS_MASTER_KEYS="$(<"$keyfile")"
    CHORUS_PROVIDERS_COMPATIBLE_FAKE_BASEURL="http://127.0.0.1:$BENCH_FAKE_PORT/v1"
    CHORUS_PROVIDERS_COMPATIBLE_FAKE_APIKEY="sk-fake"
    PORT="$BENCH_API_PORT" WORKER_PORT="$BENCH_WORKER_PORT"
    # Load, not abuse: the per-user limits would refuse the generator's queries.
    CHORUS_LIMIT_CONCURRENT_QUERIES=0 CHORUS_LIMIT_QUERIES_PER_MINUTE=0 CHORUS_LIMIT_REQUESTS_PER_MINUTE=0
  )
  log "bench: starting worker and api-server (db $BENCH_DB, namespace $BENCH_NAMESPACE, redis db $BENCH_REDIS_DB)"
  # shellcheck disable=SC2086 # CHORUS_APP_JVM_FLAGS and BENCH_JAVA_OPTS are lists of JVM flags
  start_bg worker env "${env[@]}" java $CHORUS_APP_JVM_FLAGS ${BENCH_JAVA_OPTS:-} -jar "$wjar"
  WORKER_PID=$LAST_PID
  # shellcheck disable=SC2086
  start_bg api env "${env[@]}" java $CHORUS_APP_JVM_FLAGS ${BENCH_JAVA_OPTS:-} -jar "$ajar"
  API_PID=$LAST_PID
  wait_http worker "http://127.0.0.1:$BENCH_WORKER_PORT/actuator/health" 180 "$WORKER_PID"
  wait_http api "http://127.0.0.1:$BENCH_API_PORT/actuator/health" 180 "$API_PID"
  warmup
}

# Queries through every path first, so JIT warm-up is not measured: on 2 cores the C2 compiler
# was still taking a fifth of the worker's CPU a minute after a 10-query warm-up, so 100 queries
# (BENCH_WARMUP_RATE x BENCH_WARMUP).
warmup() {
  log "bench: warming up (${BENCH_WARMUP_RATE:-5}/s for ${BENCH_WARMUP:-20s})"
  "$BENCH_BIN/loadgen" -target chorus -api "http://127.0.0.1:$BENCH_API_PORT" -mode rate \
    -rate "${BENCH_WARMUP_RATE:-5}" -duration "${BENCH_WARMUP:-20s}" \
    -connections 4 -timeout 120s -require-complete -label warmup -ttft "$FAKE_TTFT" -interval "$FAKE_INTERVAL" -out "$OUT/warmup.json" 2>>"$OUT/loadgen.log" ||
    die "warm-up queries through Chorus failed; see $OUT/loadgen.log and $BENCH_LOGS/worker.log"
}

start_litellm() {
  ((OPT_LITELLM)) || return 1
  [[ -n ${LITELLM_PID:-} ]] && return 0
  bench_venv
  local cfg="$BENCH_STATE/litellm.yaml"
  cat >"$cfg" <<EOF
model_list:
  - model_name: "*"
    litellm_params:
      model: "openai/*"
      api_base: "http://127.0.0.1:$BENCH_FAKE_PORT/v1"
      api_key: "sk-fake"
litellm_settings:
  telemetry: false
  drop_params: true
general_settings:
  master_key: "$LITELLM_KEY"
EOF
  log "bench: starting LiteLLM proxy $LITELLM_VERSION on :$BENCH_LITELLM_PORT"
  start_bg litellm env LITELLM_LOG=ERROR LITELLM_MODE=PRODUCTION "$BENCH_VENV/bin/litellm" --config "$cfg" \
    --host 127.0.0.1 --port "$BENCH_LITELLM_PORT" --num_workers 1
  LITELLM_PID=$LAST_PID
  wait_http litellm "http://127.0.0.1:$BENCH_LITELLM_PORT/health/liveliness" 180 "$LITELLM_PID"
  "$BENCH_BIN/loadgen" -target litellm -url "http://127.0.0.1:$BENCH_LITELLM_PORT/v1" -key "$LITELLM_KEY" -mode rate \
    -rate 5 -duration 3s -require-complete -label warmup-litellm -ttft "$FAKE_TTFT" -interval "$FAKE_INTERVAL" -out "$OUT/warmup-litellm.json" 2>>"$OUT/loadgen.log" ||
    die "warm-up through LiteLLM failed; see $OUT/loadgen.log and $BENCH_LOGS/litellm.log"
}

# loadgen TARGET NAME ARGS...: one measured run, its JSON at $OUT/NAME.json
loadgen() {
  local target=$1 name=$2
  shift 2
  local -a args=(-target "$target" -label "$name" -ttft "$FAKE_TTFT" -interval "$FAKE_INTERVAL" -out "$OUT/$name.json")
  case $target in
    chorus) args+=(-api "http://127.0.0.1:$BENCH_API_PORT" -pids "api=$API_PID,worker=$WORKER_PID" -jcmd "$JAVA_HOME/bin/jcmd") ;;
    direct) args+=(-url "http://127.0.0.1:$BENCH_FAKE_PORT/v1" -pids "fakellm=$FAKE_PID") ;;
    litellm) args+=(-url "http://127.0.0.1:$BENCH_LITELLM_PORT/v1" -key "$LITELLM_KEY" -pids "litellm=$LITELLM_PID,fakellm=$FAKE_PID") ;;
  esac
  log "bench: $name"
  sleep "${BENCH_PAUSE:-3}" # the previous run's tails finish before this one measures
  # A failed run is noted and the next one goes on, so `all` still ends with a report.
  "$BENCH_BIN/loadgen" "${args[@]}" "$@" 2>&1 | tee -a "$OUT/loadgen.log" >&2 || warn "bench: $name failed; see $OUT/loadgen.log"
}

peers() { # NAME ARGS...: the same load against direct and (when enabled) LiteLLM
  local name=$1
  shift
  loadgen direct "$name.direct" "$@"
  if start_litellm; then loadgen litellm "$name.litellm" "$@"; fi
}

scenario_ttft() {
  start_fakellm && start_chorus
  loadgen chorus ttft.chorus -mode rate -rate "$OPT_RATE" -duration "$OPT_DURATION"
  peers ttft -mode rate -rate "$OPT_RATE" -duration "$OPT_DURATION"
}

scenario_sustained() {
  start_fakellm && start_chorus
  loadgen chorus sustained.chorus -mode sustained -rates "$OPT_RATES" -duration "$OPT_DURATION" -bound "$OPT_BOUND"
  peers sustained -mode sustained -rates "$OPT_RATES" -duration "$OPT_DURATION" -bound "$OPT_BOUND"
}

# Long answers (250 chunks = 5 s at 20 ms) so that the streams overlap.
scenario_streams() {
  start_fakellm && start_chorus
  local n
  IFS=, read -ra steps <<<"$OPT_STREAMS"
  for n in "${steps[@]}"; do
    loadgen chorus "streams-$n.chorus" -mode concurrent -streams "$n" -ramp 3s -connections 64 -timeout 120s -model "fake-1?chunks=250"
    if [[ $(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(int(r['gaps']==0 and r['completed']==r['sent']))" "$OUT/streams-$n.chorus.json" 2>/dev/null) != 1 ]]; then
      log "bench: gaps or failures at $n concurrent streams; not going higher"
      break
    fi
  done
  peers "streams-$n" -mode concurrent -streams "$n" -ramp 3s -timeout 120s -model "fake-1?chunks=250"
}

scenario_idle() {
  start_fakellm && start_chorus
  # 10,000 client sockets here plus 10,000 on the server side (api-server has its own limit).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  (($(ulimit -n) > OPT_IDLE + 1000)) || warn "ulimit -n is $(ulimit -n): raise the hard limit for $OPT_IDLE connections"
  # Like browsers, the clients offer permessage-deflate (BENCH_IDLE_DEFLATE=0: they do not).
  local -a deflate=()
  [[ ${BENCH_IDLE_DEFLATE:-1} == 1 ]] && deflate=(-deflate)
  loadgen chorus idle.chorus -mode idle -idle "$OPT_IDLE" -hold 10s -timeout 120s "${deflate[@]}"
}

scenario_relay() {
  start_fakellm && start_chorus
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # 500 chunks every 20 ms: 10 s of streaming on every conversation at once.
  loadgen chorus relay.chorus -mode relay -clients "$OPT_CLIENTS" -per-conversation "$OPT_PER_CONV" -timeout 120s -model "fake-1?chunks=500"
}

scenario_temporal() {
  TEMPORAL_NAMESPACES=("$BENCH_NAMESPACE")
  temporal_ensure_namespaces
  # Also waits until a namespace just created has reached the server's namespace cache.
  temporal_ensure_search_attributes
  log "bench: temporal ceiling (namespace $BENCH_NAMESPACE)"
  "$BENCH_BIN/temporalbench" -address "$CHORUS_HOST:$CHORUS_TEMPORAL_PORT" -namespace "$BENCH_NAMESPACE" \
    -duration "$OPT_DURATION" -concurrency 64 -out "$OUT/temporal.json" 2>&1 | tee -a "$OUT/loadgen.log" >&2 ||
    warn "bench: temporal ceiling failed; see $OUT/loadgen.log"
}

report() {
  local dir=$1 py=python3
  [[ -x $BENCH_VENV/bin/python ]] && py=$BENCH_VENV/bin/python
  "$py" "$BENCH_DIR/report.py" "$dir"
}

parse_opts() {
  while (($#)); do
    case $1 in
      --duration) OPT_DURATION=$2; shift ;;
      --rate) OPT_RATE=$2; shift ;;
      --rates) OPT_RATES=$2; shift ;;
      --bound) OPT_BOUND=$2; shift ;;
      --streams) OPT_STREAMS=$2; shift ;;
      --idle) OPT_IDLE=$2; shift ;;
      --clients) OPT_CLIENTS=$2; shift ;;
      --per-conversation) OPT_PER_CONV=$2; shift ;;
      --out) OPT_OUT=$2; shift ;;
      --no-litellm) OPT_LITELLM=0 ;;
      --keep) OPT_KEEP=1 ;;
      *) die "unknown option $1 (see: infra/bench/run.sh help)" ;;
    esac
    shift
  done
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    build) bench_build; return ;;
    fakellm) bench_build; exec "$BENCH_BIN/fakellm" "$@" ;;
    report) report "${1:?usage: run.sh report DIR}"; return ;;
    ttft | sustained | streams | idle | relay | temporal | all) ;;
    help | -h | --help) usage; return ;;
    *) usage; exit 2 ;;
  esac
  parse_opts "$@"
  bench_build
  OUT=${OPT_OUT:-$BENCH_STATE/results/$(date -u +%Y%m%dT%H%M%SZ)-$cmd}
  BENCH_LOGS="$OUT/logs"
  mkdir -p "$OUT" "$BENCH_LOGS" "$BENCH_RUN"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  printf '{"ttft":"%s","chunks":%s,"chunkBytes":%s,"interval":"%s","host":"%s","cpus":%s,"load":"%s","at":"%s"}\n' \
    "$FAKE_TTFT" "$FAKE_CHUNKS" "$FAKE_CHUNK_BYTES" "$FAKE_INTERVAL" "$(hostname)" "$(nproc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%FT%TZ)" >"$OUT/run.json"
  if [[ $cmd == all ]]; then
    scenario_temporal
    scenario_ttft
    scenario_sustained
    scenario_streams
    scenario_relay
    scenario_idle
  else
    "scenario_$cmd"
  fi
  report "$OUT"
  log "bench: report at $OUT/report.md"
}

main "$@"
