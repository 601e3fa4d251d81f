#!/usr/bin/env python3
"""Turns one benchmark results folder (the loadgen/temporalbench JSON files) into report.md,
results.json (everything in one file, samples dropped) and latency.png (added TTFT and relay
latency distributions, Chorus beside its peers). Usage: report.py RESULTS_DIR"""

import json
import pathlib
import sys

# Targets of issue 7 / issue 5, printed beside the figures.
TARGETS = {
    "added_ttft_p50": 15.0,
    "added_ttft_p99": 40.0,
    "relay_p50": 0.3,
    "relay_p99": 2.0,
    "streams": 512,
    "idle_bytes": 16 * 1024,
}


def load(d):
    runs = {}
    for f in sorted(d.glob("*.json")):
        if f.name in ("results.json",) or f.name.startswith("warmup"):
            continue
        try:
            runs[f.stem] = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            print(f"report: skipping {f.name}: {e}", file=sys.stderr)
    return runs


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, (int,)) or (isinstance(x, float) and x.is_integer() and abs(x) >= 100):
        return f"{int(x):,}"
    return f"{x:.{digits}f}"


def mark(value, target, lower_is_better=True):
    if value is None:
        return "–"
    ok = value <= target if lower_is_better else value >= target
    return "✅" if ok else "❌"


def procs(r):
    p = r.get("processes") or {}
    return ", ".join(
        f"{name} {fmt(s['cpuPercent'])}% CPU (peak {fmt(s['cpuPeakPercent'], 0)}%), RSS {fmt(s['rssPeakMB'], 0)} MB"
        for name, s in sorted(p.items())
    ) or "–"


def latency_table(runs, prefix, title, out):
    rows = [(k.split(".", 1)[1], v) for k, v in runs.items() if k.startswith(prefix + ".")]
    if not rows:
        return
    order = {"chorus": 0, "direct": 1, "litellm": 2}
    rows.sort(key=lambda kv: order.get(kv[0], 9))
    out.append(f"### {title}\n")
    cfg = rows[0][1].get("config") or {}
    out.append(
        f"Offered {fmt(cfg.get('rate'))} queries/s for {fmt(cfg.get('durationS'))} s, model `{cfg.get('model')}`, "
        f"fake server TTFT {fmt(cfg.get('fakeTtftMs'), 0)} ms, chunk every {fmt(cfg.get('fakeIntervalMs'), 0)} ms.\n"
    )
    out.append("| path | sent | completed | failed/timed out | added TTFT p50 | p90 | p99 | max | gaps > 2× interval | CPU / memory |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        a = r["addedTtftMs"]
        out.append(
            f"| {name} | {r['sent']} | {r['completed']} | {r['failed']}/{r['timedOut']} | {fmt(a['p50'])} ms | "
            f"{fmt(a['p90'])} ms | {fmt(a['p99'])} ms | {fmt(a['max'])} ms | {r['gaps']} in {r['queriesWithGap']} answers | {procs(r)} |"
        )
    by = dict(rows)
    ch, di, li = by.get("chorus"), by.get("direct"), by.get("litellm")
    out.append("")
    if ch:
        a = ch["addedTtftMs"]
        out.append(
            f"- Target: added TTFT p50 ≤ {TARGETS['added_ttft_p50']:.0f} ms {mark(a['p50'], TARGETS['added_ttft_p50'])}, "
            f"p99 ≤ {TARGETS['added_ttft_p99']:.0f} ms {mark(a['p99'], TARGETS['added_ttft_p99'])} (Chorus: {fmt(a['p50'])} / {fmt(a['p99'])} ms)."
        )
        if di:
            out.append(
                f"- Over the direct call (the floor, measured in the same run): p50 +{fmt(a['p50'] - di['addedTtftMs']['p50'])} ms, "
                f"p99 +{fmt(a['p99'] - di['addedTtftMs']['p99'])} ms."
            )
        if li:
            lp = li["addedTtftMs"]["p50"]
            out.append(f"- Against the peer gateway (LiteLLM) p50 {fmt(lp)} ms: Chorus p50 below it {mark(a['p50'], lp)}.")
        bd = ch.get("ttftBreakdownMs") or {}
        if bd:
            out.append("\nWhere Chorus's time to first token goes (client clock, p50 / p99):\n")
            out.append("| step | p50 | p99 |")
            out.append("|---|---|---|")
            for k in sorted(bd):
                out.append(f"| {k[2:]} | {fmt(bd[k]['p50'])} ms | {fmt(bd[k]['p99'])} ms |")
            slow = max(bd, key=lambda k: bd[k]["p50"])
            temporal_steps = sum(bd[k]["p50"] for k in bd if not k.startswith("4"))
            out.append(
                f"\nSlowest step: **{slow[2:]}** (p50 {fmt(bd[slow]['p50'])} ms). Steps 1–3 are Temporal round trips "
                f"(workflow start, workflow task, activity dispatch on the query and provider task queues) plus small "
                f"PostgreSQL/Redis writes: together p50 {fmt(temporal_steps)} ms; step 4 includes the fake server's "
                f"{fmt(ch['config']['fakeTtftMs'], 0)} ms first-token time."
            )
            out.append("")
        if ch.get("relayMs") and ch["relayMs"]["n"]:
            rl = ch["relayMs"]
            out.append(f"- Per-chunk relay (worker XADD → client) in this run: p50 {fmt(rl['p50'], 3)} ms, p99 {fmt(rl['p99'], 3)} ms.")
    out.append("")


def sustained_table(runs, out):
    rows = [(k.split(".", 1)[1], v) for k, v in runs.items() if k.startswith("sustained.")]
    if not rows:
        return
    bound = (rows[0][1].get("config") or {}).get("boundMs")
    out.append("### Sustained rate at a p99 bound\n")
    out.append(f"Rates stepped up until the p99 added TTFT passed {fmt(bound, 0)} ms or a query failed.\n")
    out.append("| path | sustained queries/s | steps (offered → p99 added TTFT, completed/s) |")
    out.append("|---|---|---|")
    for name, r in rows:
        steps = "; ".join(
            f"{fmt(s.get('offeredRate'), 0)} → {fmt(s['addedTtftMs']['p99'])} ms, {fmt(s['completedPerSecond'])}/s"
            + (f" ({s['failed']} failed, {s['timedOut']} timed out)" if s["failed"] or s["timedOut"] else "")
            for s in r.get("steps") or []
        )
        out.append(f"| {name} | {fmt(r.get('sustainedRate'), 0) if r.get('sustainedRate') else 'below the first step'} | {steps} |")
    out.append("")


def streams_table(runs, out):
    rows = sorted(
        ((k, v) for k, v in runs.items() if k.startswith("streams-")),
        key=lambda kv: (kv[0].split(".")[1] != "chorus", int(kv[0].split(".")[0].split("-")[1])),
    )
    if not rows:
        return
    out.append("### Concurrent streams without gaps\n")
    out.append("Each query streams 250 chunks (5 s); all start within 3 s. A gap is a pause over 2× the chunk interval between two deltas of one answer, seen by the client.\n")
    out.append("| path | streams started | peak streaming at once | completed | answers with a gap | gaps | longest gap | relay p99 | CPU / memory |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    best = 0
    for k, r in rows:
        n, name = k.split(".", 1)
        rl = r.get("relayMs")
        out.append(
            f"| {name} | {r['sent']} | {r.get('peakConcurrentStreams', '–')} | {r['completed']} | {r['queriesWithGap']} | {r['gaps']} | "
            f"{fmt(r['maxGapMs'], 0)} ms | {fmt(rl['p99'], 2) + ' ms' if rl and rl['n'] else '–'} | {procs(r)} |"
        )
        if name == "chorus" and r["gaps"] == 0 and r["completed"] == r["sent"]:
            best = max(best, r["sent"])
    out.append("")
    out.append(f"- Most concurrent Chorus streams with no gap: **{best}** (target ≥ {TARGETS['streams']} {mark(best, TARGETS['streams'], False)}).\n")


def relay_section(runs, out):
    r = runs.get("relay.chorus")
    if not r:
        return
    rl, m = r["relayMs"], r.get("memory") or {}
    cfg = r.get("config") or {}
    out.append("### Relay to ≥ 500 WebSocket clients (issue 5)\n")
    out.append(
        f"{cfg.get('clients')} clients, {cfg.get('perConversation')} per conversation, one query per conversation "
        f"(`{cfg.get('model')}`), all streaming at once; every client receives every delta of its conversation.\n"
    )
    out.append("| receivers | queries completed | deltas received | relay p50 | p90 | p99 | max | gaps | memory per connection | CPU / memory |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    out.append(
        f"| {r.get('receivers')} | {r['completed']}/{r['sent']} | {fmt(r['deltas'])} | {fmt(rl['p50'], 3)} ms | {fmt(rl['p90'], 3)} ms | "
        f"{fmt(rl['p99'], 3)} ms | {fmt(rl['max'], 1)} ms | {r['gaps']} | {fmt(m.get('bytesPerConnection'), 0)} B | {procs(r)} |"
    )
    out.append("")
    out.append(
        f"- Target: relay p50 ≤ {TARGETS['relay_p50']} ms {mark(rl['p50'], TARGETS['relay_p50'])}, "
        f"p99 ≤ {TARGETS['relay_p99']:.0f} ms {mark(rl['p99'], TARGETS['relay_p99'])}. Relay is measured from the worker's "
        "timestamp taken just before its `XADD` (`emittedAtMicros`) to the client's receipt; both clocks are this machine's.\n"
    )


def idle_section(runs, out):
    r = runs.get("idle.chorus")
    if not r:
        return
    m = r["memory"]
    out.append("### Idle WebSockets\n")
    if r.get("config", {}).get("deflate"):
        out.append("Each client offers `permessage-deflate`, as browsers do.\n")
    if m.get("failedToConnect"):
        out.append(f"{m['failedToConnect']} of {m['connections']} connections could not be opened.\n")
    heap = m.get("heapBytesPerConnection")
    out.append("| connections | still open after hold | pings answered | connect time | api-server RSS before → after (after a full GC) | RSS per connection | live heap before → after | live heap per connection |")
    out.append("|---|---|---|---|---|---|---|---|")
    out.append(
        f"| {fmt(m['connections'] - m.get('failedToConnect', 0))} | {fmt(m['openAtEnd'])} | {m['pongs']}/{m['pinged']} | {fmt(m['connectSeconds'])} s | "
        f"{fmt(m['rssBeforeMB'], 0)} → {fmt(m['rssAfterMB'], 0)} MB | **{fmt(m['bytesPerConnection'] / 1024)} KB** | "
        + (f"{fmt(m['heapBeforeMB'], 0)} → {fmt(m['heapAfterMB'], 0)} MB | **{fmt(heap / 1024)} KB** |" if heap else "– | – |")
    )
    out.append("")
    out.append(f"- Target ≤ 16 KB per idle WebSocket: RSS {mark(m['bytesPerConnection'], TARGETS['idle_bytes'])}"
               + (f", live heap {mark(heap, TARGETS['idle_bytes'])}" if heap else "") + ".")
    out.append("- RSS growth moves with how much heap the collector keeps committed (ZGC grows it and returns it late); "
               "the live heap after a full GC (`jcmd GC.heap_info`) does not, but leaves out native memory.\n")


def temporal_section(runs, out):
    r = runs.get("temporal")
    if not r:
        return
    lat = r["latencyMs"]
    out.append("### Temporal's own ceiling\n")
    out.append(
        f"A minimal workflow (one activity echoing its input), {r['config']['concurrency']} in flight, worker and starter in one Go process, "
        f"same Temporal dev server, namespace `{r['config']['namespace']}`.\n"
    )
    out.append("| workflows/s | completed | failed | start → result p50 | p90 | p99 |")
    out.append("|---|---|---|---|---|---|")
    out.append(f"| **{fmt(r['workflowsPerSecond'])}** | {r['completed']} | {r['failed']} | {fmt(lat['p50'])} ms | {fmt(lat['p90'])} ms | {fmt(lat['p99'])} ms |")
    out.append("")


def chart(runs, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: matplotlib not installed; no chart", file=sys.stderr)
        return False
    series = []
    for key, r in runs.items():
        s = (r.get("samples") or {}).get("addedTtftMs")
        if s and "." in key and not key.startswith("sustained"):
            series.append((key, s))
    relay = [(k, r["samples"]["relayMs"]) for k, r in runs.items() if (r.get("samples") or {}).get("relayMs")]
    if not series and not relay:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    colors = {"chorus": "tab:blue", "direct": "tab:green", "litellm": "tab:orange"}
    ax = axes[0]
    for key, s in sorted(series):
        s = sorted(s)
        ys = [(i + 1) / len(s) for i in range(len(s))]
        ax.plot(s, ys, label=key, color=colors.get(key.split(".")[-1]), linestyle="-" if key.startswith("ttft") else "--")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("added time to first token (ms, client send → first delta − fake TTFT)")
    ax.set_ylabel("fraction of queries")
    ax.set_title("Added TTFT: Chorus vs direct vs LiteLLM")
    ax.axvline(TARGETS["added_ttft_p50"], color="grey", linewidth=0.8, linestyle=":")
    ax.axvline(TARGETS["added_ttft_p99"], color="grey", linewidth=0.8, linestyle=":")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1]
    for key, s in sorted(relay):
        s = sorted(s)
        ys = [(i + 1) / len(s) for i in range(len(s))]
        ax.plot(s, ys, label=key)
    ax.set_xscale("log")
    ax.set_xlabel("per-chunk relay latency (ms, worker XADD → client)")
    ax.set_title("Relay latency (Chorus)")
    ax.axvline(TARGETS["relay_p50"], color="grey", linewidth=0.8, linestyle=":")
    ax.axvline(TARGETS["relay_p99"], color="grey", linewidth=0.8, linestyle=":")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main():
    d = pathlib.Path(sys.argv[1])
    runs = load(d)
    env = runs.pop("run", {})
    out = ["# Chorus benchmark report\n"]
    out.append(
        f"Taken {env.get('at', '?')} on `{env.get('host', '?')}` ({env.get('cpus', '?')} CPUs, load average at start {env.get('load', '?')}). "
        f"Fake LLM server: first token after {env.get('ttft', '?')}, {env.get('chunks', '?')} chunks of ~{env.get('chunkBytes', '?')} bytes "
        f"every {env.get('interval', '?')}. Every path streams the same prompts from the same fake server in the same run: "
        "**chorus** = WebSocket `send_message` → api-server → Temporal workflow → worker activity → fake server → Redis Stream → api-server → WebSocket; "
        "**direct** = streaming HTTP call straight to the fake server (the floor); **litellm** = the LiteLLM proxy in front of the fake server.\n"
    )
    out.append(
        "How to read: *added TTFT* is client send → first delta minus the fake server's configured first-token time, so it is what the "
        "path itself costs; compare each row with `direct` from the same table. *Relay* is per chunk, from the worker's stream write to the "
        "client. ✅/❌ compare with the targets of issue 7. Figures from a shared 2-CPU machine move with its load.\n"
    )
    out.append("## Results\n")
    temporal_section(runs, out)
    latency_table(runs, "ttft", "Added time to first token", out)
    sustained_table(runs, out)
    streams_table(runs, out)
    relay_section(runs, out)
    idle_section(runs, out)
    if chart(runs, d / "latency.png"):
        out.append("## Latency distributions\n")
        out.append("![added TTFT and relay latency](latency.png)\n")
    errs = [(k, r["errors"]) for k, r in runs.items() if r.get("errors")]
    if errs:
        out.append("## Errors seen (first of each run)\n")
        for k, e in errs:
            out.append(f"- `{k}`: " + "; ".join(x[:200] for x in e[:3]))
        out.append("")
    (d / "report.md").write_text("\n".join(out) + "\n")
    slim = {}
    for k, r in runs.items():
        r = dict(r)
        r.pop("samples", None)
        for s in r.get("steps") or []:
            s.pop("samples", None)
        slim[k] = r
    (d / "results.json").write_text(json.dumps({"run": env, "runs": slim}, indent=1) + "\n")
    print(f"report: {d / 'report.md'}")


if __name__ == "__main__":
    main()
