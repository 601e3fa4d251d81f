#!/usr/bin/env bash
# Chorus benchmarks: see infra/bench/README.md and the "Benchmarks" section of the README.
#   infra/bench/run.sh fakellm [fakellm flags]   run the fake LLM server in the foreground
#   infra/bench/run.sh build                     build the Go tools into $CHORUS_STATE_DIR/bench/bin
#   infra/bench/run.sh ttft|sustained|streams|idle|relay|temporal|all [flags]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib/common.sh
source "$BENCH_DIR/../lib/common.sh"
BENCH_STATE="$CHORUS_STATE/bench"
BENCH_BIN="$BENCH_STATE/bin"

# Builds the Go tools (fakellm, loadgen, temporalbench) when a source is newer than the binary.
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

case ${1:-} in
  build) bench_build ;;
  fakellm)
    shift
    bench_build
    exec "$BENCH_BIN/fakellm" "$@"
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
