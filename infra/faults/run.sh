#!/usr/bin/env bash
# Chorus fault suite: WebSocket load while worker, Temporal, Redis, PostgreSQL and the api-server
# are killed or restarted, then a check that nothing was lost. See "Fault suite" in README.md.
#
#   infra/faults/run.sh [--shared] [--no-build] [--keep] [--jars-from CHECKOUT]
#                       [faults.py options, e.g. --clients 24 --kills 6]
#
# By default it runs a PRIVATE stack (its own PostgreSQL, Redis, Temporal dev server, two workers
# and an api-server) on ports 25432/26379/27233/28233/28080/28081+ with its state in
# $CHORUS_FAULTS_STATE (default /tmp/chorus-faults), so restarting services breaks nobody else's
# work; --shared uses the default stack and ports instead (it restarts them!). Reports go to
# $CHORUS_FAULTS_OUT (default <state>/report-<time>/): report.md, report.json, stack.log.
# Exit status 0 when every query reached a final state and every client's text equals the answer.
set -euo pipefail

FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$FAULTS_DIR/../.." && pwd)"
STACK="$ROOT/infra/stack.sh"

shared=0 build=1 keep=0 jars_from=$ROOT
args=()
while (($#)); do
  case $1 in
    --shared) shared=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    # Another checkout's built jars (e.g. a main branch, for before/after figures); implies --no-build.
    --jars-from) jars_from=$(cd "${2:?--jars-from needs a checkout}" && pwd) build=0 && shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

default_temporal_bin="${CHORUS_TEMPORAL_BIN:-$ROOT/.chorus/bin/temporal}"
if ((!shared)); then
  export CHORUS_STATE_DIR="${CHORUS_FAULTS_STATE:-/tmp/chorus-faults}"
  export CHORUS_PG_PORT="${CHORUS_FAULTS_PG_PORT:-25432}" CHORUS_REDIS_PORT="${CHORUS_FAULTS_REDIS_PORT:-26379}"
  export CHORUS_TEMPORAL_PORT="${CHORUS_FAULTS_TEMPORAL_PORT:-27233}" CHORUS_TEMPORAL_UI_PORT="${CHORUS_FAULTS_TEMPORAL_UI_PORT:-28233}"
  export CHORUS_API_PORT="${CHORUS_FAULTS_API_PORT:-28080}" CHORUS_WORKER_PORT="${CHORUS_FAULTS_WORKER_PORT:-28081}"
  # The addresses come from the ports above (infra/lib/apps.sh), never from the caller's environment.
  unset DATABASE_URL REDIS_URL TEMPORAL_ADDRESS TEMPORAL_NAMESPACE PORT WORKER_PORT
  mkdir -p "$CHORUS_STATE_DIR/bin"
  # Reuse an installed Temporal CLI rather than installing a second one.
  if [[ ! -x $CHORUS_STATE_DIR/bin/temporal && -x $default_temporal_bin ]]; then
    ln -sf "$default_temporal_bin" "$CHORUS_STATE_DIR/bin/temporal"
  fi
fi
export CHORUS_WORKERS=2
# The suite's clients share one account: the per-user limits of a real deployment are off here.
export CHORUS_LIMIT_CONCURRENT_QUERIES=0 CHORUS_LIMIT_QUERIES_PER_MINUTE=0 CHORUS_LIMIT_REQUESTS_PER_MINUTE=0
# JVMs start slowly on a busy machine; a restart that times out would end the suite early.
export CHORUS_APP_START_TIMEOUT="${CHORUS_APP_START_TIMEOUT:-300}"
# shellcheck source=infra/lib/common.sh
source "$ROOT/infra/lib/common.sh"
chorus_ensure_dirs

# The load client's own venv, pinned (apart from the stack's venv, whose pins are not ours).
venv="$CHORUS_STATE/faults-venv"
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$FAULTS_DIR/requirements.txt" "$venv/requirements.txt"; then
  log "faults: installing the load client into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$FAULTS_DIR/requirements.txt"
  cp "$FAULTS_DIR/requirements.txt" "$venv/requirements.txt"
fi

"$STACK" services
if ((build)); then
  eval "$("$STACK" env)"
  log "faults: building the jars (mvn -B -q -DskipTests package)"
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never -DskipTests package)
fi
# The apps run from a copy of the jars, so rebuilding the worktree meanwhile cannot break them.
export CHORUS_JARS_DIR="$CHORUS_STATE/jars"
rm -rf "$CHORUS_JARS_DIR" && mkdir -p "$CHORUS_JARS_DIR"
for module in workflow-worker api-server; do
  for jar in "$jars_from/$module/target/$module"-*.jar; do
    case ${jar##*/} in *-plain.jar | *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;; esac
    [[ -f $jar ]] && cp "$jar" "$CHORUS_JARS_DIR/"
  done
done
"$STACK" restart-app all

out="${CHORUS_FAULTS_OUT:-$CHORUS_STATE/report-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
log "faults: driving load and faults; report in $out"
status=0
"$venv/bin/python" "$FAULTS_DIR/faults.py" --api "http://$CHORUS_HOST:$CHORUS_API_PORT" \
  --stack "$STACK" --run-dir "$CHORUS_RUN" --out "$out" "${args[@]}" || status=$?
cp "$CHORUS_LOGS"/worker*.log "$CHORUS_LOGS"/api-server.log "$out/" 2>/dev/null || true
if ((!shared && !keep)); then
  "$STACK" down
fi
log "faults: report $out/report.md (exit $status)"
exit "$status"
