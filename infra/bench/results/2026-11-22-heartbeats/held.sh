#!/usr/bin/env bash
# How the figures of this folder were taken: held.sh CHECKOUT LABEL [OUT]
# Starts the bench stack from CHECKOUT's jars (warmed up by a short ttft run), then holds 64 and
# 128 long streams: started at 8 per second (below the sustained query rate, so the start-up cost
# of new queries is not what is measured), 1500 chunks of 16 bytes every 20 ms (30 s) each, so all
# of them stream at once for a while. Per-process CPU comes from /proc before and after.
set -euo pipefail
tree=$1 label=$2 out=${3:-/tmp/held-$2}
loadgen=$(cd "$(dirname "$0")/../.." && pwd)/target/bin/loadgen
mkdir -p "$out"
cpu() { for p in /proc/[0-9]*; do
  read -r line <"$p/stat" 2>/dev/null || continue
  set -- ${line##*) }
  args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-120); comm=$(cat "$p/comm" 2>/dev/null)
  case "$args" in *workflow-worker*) g=worker ;; *api-server*) g=api ;; *temporal*) g=temporal ;; *fakellm*) g=fakellm ;;
    *) case $comm in postgres*) g=postgres ;; redis*) g=redis ;; *) continue ;; esac ;; esac
  echo "$g ${p#/proc/} $((${12} + ${13}))"; done; }
cd "$tree"
BENCH_DB=bench_$label BENCH_NAMESPACE=bench-$label infra/bench/run.sh ttft --rate 5 --duration 10s --no-litellm --keep --out "$out/warm" >"$out/warm.log" 2>&1
for n in 64 128; do
  cpu >"$out/cpu-before-$n"
  "$loadgen" -target chorus -label "$label" -ttft 100ms -interval 20ms -api http://127.0.0.1:18080 \
    -mode concurrent -streams "$n" -ramp "$((n / 8))s" -connections 64 -timeout 240s \
    -model "fake-1?chunks=1500" -out "$out/held-$label-$n.json" >"$out/held-$label-$n.log" 2>&1
  cpu >"$out/cpu-after-$n"
  python3 - "$out/cpu-before-$n" "$out/cpu-after-$n" <<'PY'
import collections, os, sys
hz = os.sysconf("SC_CLK_TCK"); b = {}; a = {}
for f, d in ((sys.argv[1], b), (sys.argv[2], a)):
    for l in open(f):
        g, p, t = l.split(); d[p] = (g, int(t))
tot = collections.Counter()
for p, (g, t) in a.items():
    tot[g] += t - (b[p][1] if p in b else 0)
print(" ".join(f"{g} {t / hz:.2f} cpu-s" for g, t in tot.most_common()))
PY
done
pkill -f 'workflow-worker-0.1.0|api-server-0.1.0|fakellm' || true
