"""Team server benchmark: queue page and ticket detail under many connections, req/s
per worker, and SSE fan-out latency. Prints one JSON document (progress on stderr).

Targets (issue 6): queue page and ticket detail p99 ≤ 100 ms with 300 concurrent
agents on a 100k-ticket store, ≥ 1,000 req/s per worker; 1,000 SSE subscribers
with event → client p99 ≤ 250 ms.

Load comes from ``wrk`` (apt-get install wrk) in its own process: an httpx client
tops out near 250 req/s and would measure itself. The server is the real
``agent-tui serve`` in a child process. Note: on a 2-core machine the server,
wrk and (for SSE) the subscribers share the cores, so figures are a floor.

    python benchmarks/server_bench.py --db sqlite:////tmp/server-bench-100k.db
    python benchmarks/server_bench.py --db postgresql://... --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from store_bench import build_or_reuse
from timing import pct

from agent_tui.domain.enums import Source
from agent_tui.domain.tables import Agent
from agent_tui.services import tickets, tokens
from agent_tui.store import Store
from agent_tui.store.events import Actor

ADMIN = Actor.system(Source.CLI, login="cli:bench")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, logfile: Path) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).with_name("agent-tui"))
    cmd = [exe, "serve", "--db", url, "--port", str(port), "--workers", str(workers),
           "--rate", "0", "--sse-per-user", "5000"]
    proc = subprocess.Popen(cmd, stdout=logfile.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start: {logfile.read_text()[-1000:]}")


def token_for(store: Store, role: str | None = None) -> tuple[str, str]:
    """A new token for the first active agent (with ``role``, if given)."""
    from sqlmodel import col, select

    with store.write() as s:
        query = select(Agent).where(Agent.active == True)  # noqa: E712
        if role is not None:
            query = query.where(Agent.role == role)
        agent = s.exec(query.order_by(col(Agent.id))).first()
        if agent is None:
            raise SystemExit(f"the store has no active {role or 'agent'}")
        _, secret = tokens.create_token(s, ADMIN, agent.login, name="bench")
        return agent.login, secret


_LAT = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_ERR = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCK = re.compile(r"Socket errors:(.*)")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, token: str, *, connections: int, seconds: int, threads: int,
            script: str | None = None) -> dict[str, Any]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
           "--timeout", "10s", "-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            cmd += ["-s", lua.name]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    out = done.stdout
    lat = {f"p{m[1]}_ms": round(_ms(m[2], m[3]), 2) for m in _LAT.finditer(out)}
    rps = _RPS.search(out)
    errors = _ERR.search(out)
    sock = _SOCK.search(out)
    return {**lat, "req_per_s": float(rps[1]) if rps else 0.0,
            "non_2xx": int(errors[1]) if errors else 0,
            "socket_errors": sock[1].strip() if sock else "none",
            "connections": connections, "seconds": seconds}


async def sse_fanout(base: str, token: str, store: Store, clients: int, events: int
                     ) -> dict[str, Any]:
    """``clients`` raw SSE connections; write ``events`` notes; commit → client latency."""
    from sqlmodel import select

    from agent_tui.domain.tables import Ticket
    from agent_tui.store.events import last_seq

    host, port = base.removeprefix("http://").split(":")
    writes: dict[int, float] = {}  # seq → perf_counter right after its commit
    received: list[list[tuple[int, float]]] = [[] for _ in range(clients)]
    ready = 0

    async def client(mine: list[tuple[int, float]]) -> None:
        nonlocal ready
        reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
        writer.write((f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
                      ).encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(head.decode(errors="replace")[:200])
        ready += 1
        try:
            while line := await reader.readline():
                if line.startswith(b"id: "):  # chunked framing: only "id: N" lines matter
                    mine.append((int(line[4:].strip()), time.perf_counter()))
        finally:
            writer.close()

    tasks = [asyncio.create_task(client(r)) for r in received]
    deadline = time.monotonic() + 60
    while ready < clients and time.monotonic() < deadline:
        failed = [t for t in tasks if t.done()]
        if failed:
            failed[0].result()
        await asyncio.sleep(0.05)
    with store.read() as s:
        found = s.exec(select(Ticket.id).where(Ticket.is_open == True)  # noqa: E712
                       .limit(1)).one()
    assert found is not None  # a primary key read back
    ticket_id: int = found

    def write_one(i: int) -> None:
        with store.write() as s:
            tickets.note(s, ADMIN, ticket_id, f"fan-out {i}")
            seq = last_seq(s)
        writes[seq] = time.perf_counter()

    await asyncio.sleep(0.5)
    for i in range(events):
        await asyncio.to_thread(write_one, i)
        await asyncio.sleep(0.3)
    await asyncio.sleep(3.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    got = [(t - writes[seq]) * 1000 for mine in received for seq, t in mine if seq in writes]
    return {"subscribers": ready, "events": events, "deliveries": len(got),
            "expected_deliveries": ready * events,
            "p50_ms": pct(got, 50), "p95_ms": pct(got, 95), "p99_ms": pct(got, 99),
            "max_ms": round(max(got), 1) if got else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite:////tmp/server-bench-100k.db")
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--sse-clients", type=int, default=1000)
    ap.add_argument("--sse-events", type=int, default=10)
    ap.add_argument("--only", choices=["http", "sse"], default=None)
    ap.add_argument("--think-ms", type=int, default=0,
                    help="also run the queue page and the detail with each connection "
                         "pausing this long between requests (agents at a human pace, "
                         "wrk's delay()); the saturated runs are unchanged")
    ap.add_argument("--think-jitter", type=float, default=0.5,
                    help="each pause is drawn uniformly from think-ms x (1 +- this); 0 "
                         "makes every connection pause exactly think-ms, so all of them "
                         "fire together, every round (wrk delays the first request too)")
    ap.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent",
                    help="the role whose token the load uses (agents see masked data)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    store, built = build_or_reuse(args.db, args.tickets, 7)
    login, secret = token_for(store, args.role)
    with store.read() as s:
        max_id = int(s.connection().exec_driver_sql("SELECT max(id) FROM ticket").scalar() or 1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logfile = Path(tempfile.mkdtemp()) / "serve.log"
    proc = start_server(args.db, port, args.workers, logfile)
    result: dict[str, Any] = {"store": built, "workers": args.workers, "login": login,
                              "role": args.role, "dialect": store.dialect}
    try:
        if args.only != "sse":
            http_part(result, base, secret, args, max_id)
        if args.only != "http":
            log(f"SSE: {args.sse_clients} subscribers, {args.sse_events} events")
            result["sse_fanout"] = asyncio.run(sse_fanout(base, secret, store,
                                                          args.sse_clients, args.sse_events))
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        store.dispose()
    print(json.dumps(result, indent=2))


def pacing(think_ms: int, jitter: float) -> str:
    """wrk Lua: each connection pauses ~``think_ms`` before each request.

    People do not click in step. With a fixed pause, wrk's connections (all
    opened at once, and each first request delayed too) fire together every
    round: 300 requests in the same millisecond, whose last answer waits for
    the 299 before it whatever the server does. A pause drawn from
    ``think_ms * (1 +- jitter)``, seeded per wrk thread, spreads them out.
    """
    low = max(0, round(think_ms * (1 - jitter)))
    high = max(low, round(think_ms * (1 + jitter)))
    return ("local threads = 0\n"
            "setup = function(thread)\n  threads = threads + 1\n"
            "  thread:set(\"seed\", 7 + threads)\nend\n"
            "init = function(args)\n  math.randomseed(seed or 7)\nend\n"
            f"delay = function()\n  return math.random({low}, {high})\nend\n")


def http_part(result: dict[str, Any], base: str, secret: str, args: argparse.Namespace,
              max_id: int) -> None:
    if True:
        log(f"wrk: queue page, {args.connections} connections, {args.seconds}s")
        result["queue_page"] = run_wrk(f"{base}/api/v1/tickets?view=all_open&limit=50", secret,
                                       connections=args.connections, seconds=args.seconds,
                                       threads=args.threads)
        log(f"wrk: ticket detail over random ids 1..{max_id}")
        random.seed(7)
        detail = (f"math.randomseed(7)\nrequest = function()\n  return wrk.format(nil, "
                  f"\"/api/v1/tickets/\" .. math.random(1, {max_id}))\nend\n")
        result["ticket_detail"] = run_wrk(f"{base}/api/v1/tickets/1", secret,
                                          connections=args.connections, seconds=args.seconds,
                                          threads=args.threads, script=detail)
        if args.think_ms > 0:
            # wrk is closed-loop: saturated, each of N connections waits for the N-1
            # requests ahead of it, so p50 ~ N / throughput whatever the server does.
            # Paced connections measure the latency 300 agents see at a given load.
            pause = pacing(args.think_ms, args.think_jitter)
            log(f"wrk: queue page and detail, each connection pausing {args.think_ms} ms "
                f"(+-{args.think_jitter:.0%})")
            result["queue_page_paced"] = run_wrk(
                f"{base}/api/v1/tickets?view=all_open&limit=50", secret,
                connections=args.connections, seconds=args.seconds, threads=args.threads,
                script=pause)
            result["ticket_detail_paced"] = run_wrk(
                f"{base}/api/v1/tickets/1", secret, connections=args.connections,
                seconds=args.seconds, threads=args.threads, script=detail + pause)
            for key in ("queue_page_paced", "ticket_detail_paced"):
                result[key]["think_ms"] = args.think_ms
                result[key]["think_jitter"] = args.think_jitter
        log("wrk: health (no database work beyond one max(seq)) for the framework ceiling")
        result["health"] = run_wrk(f"{base}/api/v1/health", secret, connections=50,
                                   seconds=max(3, args.seconds // 3), threads=args.threads)
        for key in ("queue_page", "ticket_detail"):
            result[key]["req_per_s_per_worker"] = round(
                result[key]["req_per_s"] / args.workers, 1)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
