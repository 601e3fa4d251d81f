"""Chorus fault suite driver: WebSocket load while the stack is broken on purpose, then checks.

Started by infra/faults/run.sh, which brings the stack up and passes the addresses. Every client
has one WebSocket; it posts a message, subscribes to the query's events, and after a disconnect
reconnects and re-subscribes with `after: <last event id>`. Meanwhile the fault schedule kills and
restarts parts of the stack through infra/stack.sh. At the end every query is read back over REST
and what each client assembled (API.md rule) is compared with the persisted answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx
import websockets

FINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED"}


def now() -> float:
    return time.monotonic()


def utf16_prefix(text: str, units: int) -> str:
    """The first `units` UTF-16 code units: resumeFrom counts like JavaScript's String.length."""
    return text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "surrogatepass")


@dataclass
class AgentView:
    text: str = ""
    attempt: int = 0
    next_seq: int = 0
    deltas: list = field(default_factory=list)  # (arrival, attempt)
    retries: list = field(default_factory=list)  # (arrival, attempt, resumeFrom)
    completed: bool = False
    lost: int = 0  # seq numbers skipped within an attempt
    duplicated: int = 0  # seq numbers seen twice within an attempt
    stale: int = 0  # deltas of an older attempt after a newer one began
    overshoot: int = 0  # retries whose resumeFrom passed the text this client had received
    trace: list = field(default_factory=list)  # every event of this agent, for a mismatch report


@dataclass
class QueryRun:
    qid: str
    sent_at: float
    agents: dict = field(default_factory=dict)
    last_id: str | None = None
    seen_ids: set = field(default_factory=set)
    duplicate_events: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    final_status: str | None = None
    persisted: dict | None = None

    def view(self, agent: str) -> AgentView:
        return self.agents.setdefault(agent, AgentView())

    def on_event(self, ev: dict, at: float) -> None:
        eid = ev.get("id")
        if eid:
            if eid in self.seen_ids:
                self.duplicate_events += 1
                return
            self.seen_ids.add(eid)
            self.last_id = eid
        kind = ev.get("type")
        agent = ev.get("agent")
        if agent is not None:
            self.view(agent).trace.append(
                [eid, kind, ev.get("attempt"), ev.get("seq"), ev.get("resumeFrom"), ev.get("text")]
            )
        if kind == "delta":
            v = self.view(agent)
            attempt = ev.get("attempt", 0)
            if attempt < v.attempt:
                v.stale += 1
                return
            if attempt > v.attempt:  # a continuation without a retrying event seen first
                v.attempt, v.next_seq = attempt, 0
            seq = ev.get("seq", 0)
            if seq < v.next_seq:
                v.duplicated += 1
                return
            if seq > v.next_seq:
                v.lost += seq - v.next_seq
            v.next_seq = seq + 1
            v.text += ev.get("text", "")
            v.deltas.append((at, attempt))
        elif kind == "response_retrying":
            v = self.view(agent)
            v.attempt, v.next_seq = ev.get("attempt", v.attempt + 1), 0
            if len(v.text.encode("utf-16-le", "surrogatepass")) // 2 < ev.get("resumeFrom", 0):
                v.overshoot += 1  # the server kept text it never sent: this client's answer is wrong
            v.text = utf16_prefix(v.text, ev.get("resumeFrom", 0))
            v.retries.append((at, v.attempt, ev.get("resumeFrom", 0)))
        elif kind == "response_started":
            v = self.view(agent)
            if ev.get("attempt", 1) > v.attempt:
                v.attempt, v.next_seq = ev.get("attempt", 1), 0
        elif kind in ("response_completed", "response_failed", "response_cancelled"):
            self.view(agent).completed = True
        elif kind == "query_completed":
            self.final_status = ev.get("status")
            self.done.set()


class Client:
    """One user-facing WebSocket client with its own conversation."""

    def __init__(self, suite: Suite, index: int):
        self.suite = suite
        self.index = index
        self.conversation: str | None = None
        self.active: dict[str, QueryRun] = {}
        self.ws = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.failed_in_a_row = 0

    async def run_socket(self) -> None:
        """Keeps one WebSocket open; after a drop, reconnects and resumes every active query."""
        url = f"{self.suite.ws_url}/ws?token={self.suite.token}"
        while not self.suite.stopping:
            try:
                async with websockets.connect(url, open_timeout=5, ping_interval=5, ping_timeout=5) as ws:
                    self.ws = ws
                    self.failed_in_a_row = 0
                    for run in list(self.active.values()):
                        await self.subscribe(run)
                    self.connected.set()
                    async for raw in ws:
                        at = now()
                        ev = json.loads(raw)
                        run = self.active.get(ev.get("queryId") or "")
                        if run is not None:
                            self.suite.on_event(run, ev, at)
                        elif ev.get("type") == "error":
                            self.suite.errors.append(ev)
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
                pass
            self.connected.clear()
            self.ws = None
            if self.suite.stopping:
                return
            self.reconnects += 1
            # Quick at first (a dropped connection), then backing off while the server is away.
            await asyncio.sleep(min(2.0, 0.1 * 2 ** min(self.failed_in_a_row, 5)))
            self.failed_in_a_row += 1

    async def subscribe(self, run: QueryRun) -> None:
        frame = {"type": "subscribe", "queryId": run.qid}
        if run.last_id:
            frame["after"] = run.last_id
        await self.ws.send(json.dumps(frame))

    async def run_queries(self) -> None:
        s = self.suite
        self.conversation = (await s.post("/api/conversations", {"title": f"faults {self.index}"}))["id"]
        while now() < s.load_until:
            agents = [
                {"provider": "mock", "model": f"mock-{self.index}-{a}?{s.mock_params}", "name": f"a{a}"}
                for a in range(s.agents_per_query)
            ]
            body = {"content": f"fault suite question {self.index}", "agents": agents}
            created = await s.post(
                f"/api/conversations/{self.conversation}/messages", body, key=str(uuid.uuid4())
            )
            run = QueryRun(created["query"]["id"], now())
            self.active[run.qid] = run
            s.runs.append(run)
            await self.connected.wait()
            try:
                await self.subscribe(run)
            except (websockets.WebSocketException, AttributeError):
                pass  # the reconnect re-subscribes it
            try:
                await asyncio.wait_for(run.done.wait(), timeout=s.query_timeout)
            except asyncio.TimeoutError:
                pass
            del self.active[run.qid]
            await asyncio.sleep(s.think)


@dataclass
class Fault:
    name: str
    started: float
    back: float
    in_flight: dict  # (qid, agent) -> time of its last delta before the fault
    note: str = ""


class Suite:
    def __init__(self, args):
        self.args = args
        self.api = args.api.rstrip("/")
        self.ws_url = self.api.replace("http", "ws", 1)
        self.stack = args.stack
        self.agents_per_query = args.agents
        self.mock_params = args.mock
        self.think = args.think
        self.query_timeout = args.query_timeout
        self.stopping = False
        self.token = None
        self.runs: list[QueryRun] = []
        self.errors: list = []
        self.faults: list[Fault] = []
        self.http = httpx.AsyncClient(timeout=10)
        self.load_until = float("inf")
        self.clients: list[Client] = []
        self.stream_last: dict = {}  # (qid, agent) -> last delta arrival, for in-flight detection
        self.stack_failures: list[str] = []

    def on_event(self, run: QueryRun, ev: dict, at: float) -> None:
        run.on_event(ev, at)
        if ev.get("type") == "delta":
            self.stream_last[(run.qid, ev.get("agent"))] = at
        elif ev.get("type") in ("response_completed", "response_failed", "response_cancelled"):
            self.stream_last.pop((run.qid, ev.get("agent")), None)

    async def post(self, path: str, body: dict, key: str | None = None) -> dict:
        """POSTs until the API answers (it may be restarting); an Idempotency-Key makes repeats safe."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key:
            headers["Idempotency-Key"] = key
        deadline = now() + 120
        while True:
            try:
                r = await self.http.post(self.api + path, json=body, headers=headers)
                if r.status_code < 300:
                    return r.json()
                if r.status_code < 500:
                    raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")
            except httpx.TransportError:
                pass
            if now() > deadline:
                raise RuntimeError(f"POST {path}: the API did not answer for 120 s")
            await asyncio.sleep(0.5)

    async def get(self, path: str) -> dict:
        deadline = now() + 120
        while True:
            try:
                r = await self.http.get(self.api + path, headers={"Authorization": f"Bearer {self.token}"})
                if r.status_code == 200:
                    return r.json()
            except httpx.TransportError:
                pass
            if now() > deadline:
                raise RuntimeError(f"GET {path}: no answer for 120 s")
            await asyncio.sleep(0.5)

    # ---- faults -------------------------------------------------------------------------------

    async def sh(self, *argv: str) -> float:
        proc = await asyncio.create_subprocess_exec(
            self.stack, *argv, stdout=asyncio.subprocess.DEVNULL, stderr=self.args.stack_log
        )
        if await proc.wait() != 0:
            # Recorded, not fatal: the suite goes on and the report shows what failed to come back.
            self.stack_failures.append(" ".join(argv))
            print(f"[faults] infra/stack.sh {' '.join(argv)} failed (see stack.log)", file=sys.stderr, flush=True)
        return now()

    def pid(self, name: str) -> int:
        with open(os.path.join(self.args.run_dir, f"{name}.pid")) as f:
            return int(f.read().strip())

    def in_flight(self, at: float) -> dict:
        return {k: t for k, t in self.stream_last.items() if at - t < 1.0}

    async def fault(self, name: str, action, note: str = "") -> Fault:
        started = now()
        f = Fault(name, started, started, self.in_flight(started), note)
        print(f"[faults] {name}: {len(f.in_flight)} streams in flight", file=sys.stderr, flush=True)
        f.back = await action()
        self.faults.append(f)
        return f

    async def kill9(self, name: str) -> None:
        """SIGKILL, then wait until the process is gone: until then it still holds its port.

        A JVM's main thread can be a zombie while its other threads still exit, and the process's
        sockets close only with the last of them (found when a restarted api-server saw its port
        still taken), so this also waits for the thread list to empty.
        """
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        while True:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X") and len(os.listdir(f"/proc/{pid}/task")) <= 1:
                    return
            except FileNotFoundError:
                return
            await asyncio.sleep(0.05)

    async def kill_worker(self, name: str, restart: bool, down: float = 1.0) -> float:
        await self.kill9(name)
        if not restart:
            return now()
        await asyncio.sleep(down)
        return await self.sh("restart-app", name)

    async def kill_api(self) -> float:
        await self.kill9("api")
        return await self.sh("restart-app", "api")

    async def schedule(self) -> None:
        a = self.args
        only = set(a.only.split(","))
        await asyncio.sleep(a.warmup)
        if "restart" in only:
            # The old way: one worker, killed and started again (a JVM boot before anything resumes).
            await self.sh("stop-app", "worker2")
            await asyncio.sleep(2)
            await self.fault("worker-kill-restart", lambda: self.kill_worker("worker", True), "no standby")
            await self.sh("restart-app", "worker2")
            await asyncio.sleep(a.gap)
        # With a standby: the killed worker's attempts move to the live one; the dead one is started
        # again in the background so a standby is back for the next kill.
        for i in range(a.kills if "standby" in only else 0):
            victim = "worker" if i % 2 == 0 else "worker2"
            await self.fault("worker-kill-standby", lambda v=victim: self.kill_worker(v, False), victim)
            await asyncio.sleep(3)
            await self.sh("restart-app", victim)
            await asyncio.sleep(a.gap)
        services = [
            ("temporal", "temporal-restart", lambda: self.sh("restart-service", "temporal", "3")),
            ("redis", "redis-restart", lambda: self.sh("restart-service", "redis", "2")),
            ("postgres", "postgres-restart", lambda: self.sh("restart-service", "postgres", "2")),
            ("api", "api-kill-restart", self.kill_api),
        ]
        for key, name, action in services:
            if key in only:
                await self.fault(name, action)
                await asyncio.sleep(a.gap)

    # ---- run and check ------------------------------------------------------------------------

    async def main(self) -> dict:
        a = self.args
        email = f"faults-{uuid.uuid4().hex[:8]}@example.com"
        reg = await self.post("/api/auth/register", {"email": email, "password": "fault suite pw 1"})
        self.token = reg["token"]
        self.clients = [Client(self, i) for i in range(a.clients)]
        sockets = [asyncio.create_task(c.run_socket()) for c in self.clients]
        started = now()
        self.load_until = float("inf")
        queries = [asyncio.create_task(c.run_queries()) for c in self.clients]
        if a.no_faults:
            await asyncio.sleep(a.warmup + 20)
        else:
            await self.schedule()
        self.load_until = now()
        await asyncio.gather(*queries)
        self.stopping = True
        for c in self.clients:
            if c.ws is not None:
                await c.ws.close()
        for t in sockets:
            t.cancel()
        for run in self.runs:
            await self.settle(run)
        return self.report(now() - started)

    async def settle(self, run: QueryRun) -> None:
        """Reads the persisted query; waits (bounded) for a final status if the client saw none."""
        deadline = now() + 30
        while True:
            q = await self.get(f"/api/queries/{run.qid}")
            if q["status"] in FINAL or now() > deadline:
                run.persisted = q
                return
            await asyncio.sleep(1)

    def report(self, elapsed: float) -> dict:
        statuses: dict = {}
        mismatches, not_final, lost, dup, stale, dup_events, overshoot = [], [], 0, 0, 0, 0, 0
        for run in self.runs:
            st = run.persisted["status"]
            statuses[st] = statuses.get(st, 0) + 1
            if st not in FINAL:
                not_final.append(run.qid)
            dup_events += run.duplicate_events
            for r in run.persisted.get("responses", []):
                v = run.agents.get(r["agent"], AgentView())
                lost += v.lost
                dup += v.duplicated
                stale += v.stale
                overshoot += v.overshoot
                persisted = r.get("content") or ""
                if r["status"] == "COMPLETED" and v.text != persisted:
                    common = len(os.path.commonprefix([v.text, persisted]))
                    mismatches.append(
                        {
                            "query": run.qid,
                            "agent": r["agent"],
                            "clientChars": len(v.text),
                            "persistedChars": len(persisted),
                            "firstDifferenceAt": common,
                            "client": v.text[common : common + 60],
                            "persisted": persisted[common : common + 60],
                            "events": v.trace,
                        }
                    )
        faults = [self.fault_figures(f) for f in self.faults]
        return {
            "elapsedSeconds": round(elapsed, 1),
            "clients": self.args.clients,
            "agentsPerQuery": self.agents_per_query,
            "mock": self.mock_params,
            "queries": len(self.runs),
            "statuses": statuses,
            "notFinal": not_final,
            "textMismatches": mismatches,
            "lostDeltas": lost,
            "duplicatedDeltas": dup,
            "staleAttemptDeltas": stale,
            "resumesPastReceivedText": overshoot,
            "duplicateEvents": dup_events,
            "reconnects": sum(c.reconnects for c in self.clients),
            "retries": sum(len(v.retries) for run in self.runs for v in run.agents.values()),
            "errorEvents": self.errors[:20],
            "stackCommandsFailed": self.stack_failures,
            "faults": faults,
        }

    def fault_figures(self, f: Fault) -> dict:
        """Per fault: for each stream in flight at the fault, the time to its next delta."""
        by_key = {(r.qid, a): v for r in self.runs for a, v in r.agents.items()}
        gaps, moved, stalls = [], [], []
        for key in f.in_flight:
            v = by_key.get(key)
            if v is None:
                continue
            after = [at for at, _ in v.deltas if at > f.started]
            if not after:
                continue
            gap = after[0] - f.started
            gaps.append(gap)
            if any(at > f.started for at, _, _ in v.retries):
                moved.append(gap)
            # The longest silence the user saw on this stream around the fault.
            window = [at for at, _ in v.deltas if f.started - 2 <= at <= f.back + 60]
            stalls.append(max((b - a for a, b in zip(window, window[1:])), default=0.0))
        return {
            "fault": f.name,
            "note": f.note,
            "downSeconds": round(f.back - f.started, 2),
            "streamsInFlight": len(f.in_flight),
            "streamsRetried": len(moved),
            "nextDeltaSeconds": summary(gaps),
            "retriedNextDeltaSeconds": summary(moved),
            "longestStallSeconds": summary(stalls),
        }


def summary(xs: list) -> dict | None:
    if not xs:
        return None
    xs = sorted(xs)
    return {
        "n": len(xs),
        "min": round(xs[0], 2),
        "p50": round(statistics.median(xs), 2),
        "max": round(xs[-1], 2),
    }


def markdown(r: dict) -> str:
    def fmt(s):
        return "–" if not s else f"{s['p50']} / {s['max']} (n={s['n']})"

    ok = not r["notFinal"] and not r["textMismatches"] and r["lostDeltas"] == 0 and r["duplicatedDeltas"] == 0
    ok = ok and r["resumesPastReceivedText"] == 0
    lines = [
        "# Chorus fault suite",
        "",
        f"**{'PASS' if ok else 'FAIL'}** — {r['queries']} queries ({r['clients']} WebSocket clients × "
        f"{r['agentsPerQuery']} agents, mock `{r['mock']}`) in {r['elapsedSeconds']} s",
        "",
        "| check | result |",
        "|---|---|",
        f"| final states | {', '.join(f'{k} {v}' for k, v in sorted(r['statuses'].items()))} |",
        f"| queries not final | {len(r['notFinal'])} |",
        f"| client text ≠ persisted answer | {len(r['textMismatches'])} |",
        f"| lost deltas (seq gaps) | {r['lostDeltas']} |",
        f"| duplicated deltas (seq repeats) | {r['duplicatedDeltas']} |",
        f"| deltas of a superseded attempt | {r['staleAttemptDeltas']} |",
        f"| retries resuming past the text a client received | {r['resumesPastReceivedText']} |",
        f"| events delivered twice (same id) | {r['duplicateEvents']} |",
        f"| retried attempts seen | {r['retries']} |",
        f"| WebSocket reconnects | {r['reconnects']} |",
        f"| stack commands that failed | {', '.join(r['stackCommandsFailed']) or 'none'} |",
        "",
        "| fault | note | command (s) | streams in flight | retried | next delta p50 / max (s) | retried streams: next delta p50 / max (s) | longest stall p50 / max (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in r["faults"]:
        lines.append(
            f"| {f['fault']} | {f['note']} | {f['downSeconds']} | {f['streamsInFlight']} | {f['streamsRetried']} "
            f"| {fmt(f['nextDeltaSeconds'])} | {fmt(f['retriedNextDeltaSeconds'])} | {fmt(f['longestStallSeconds'])} |"
        )
    if r["textMismatches"]:
        lines += ["", "First mismatches:", ""]
        for m in r["textMismatches"][:5]:
            brief = {k: v for k, v in m.items() if k != "events"}
            lines.append(f"- `{m['query']}` {m['agent']}: {json.dumps(brief)} (events in report.json)")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--api", required=True)
    p.add_argument("--stack", required=True, help="path of infra/stack.sh")
    p.add_argument("--run-dir", required=True, help="the stack's pid folder")
    p.add_argument("--out", required=True, help="folder for report.md and report.json")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--mock", default="tokens=150&tokenDelay=40ms")
    p.add_argument("--kills", type=int, default=4, help="worker kills with a standby")
    p.add_argument("--warmup", type=float, default=8)
    p.add_argument("--gap", type=float, default=6, help="seconds of plain load between faults")
    p.add_argument("--think", type=float, default=0.2)
    p.add_argument("--query-timeout", type=float, default=240)
    p.add_argument("--no-faults", action="store_true")
    p.add_argument(
        "--only",
        default="restart,standby,temporal,redis,postgres,api",
        help="which faults, comma-separated (default: all of restart,standby,temporal,redis,postgres,api)",
    )
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    args.stack_log = open(os.path.join(args.out, "stack.log"), "a")
    report = asyncio.run(Suite(args).main())
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    md = markdown(report)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(md)
    print(md)
    ok = not report["notFinal"] and not report["textMismatches"]
    ok = ok and report["lostDeltas"] == 0 and report["duplicatedDeltas"] == 0
    ok = ok and report["resumesPastReceivedText"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
