"""server.turns: hot reads one turn at a time, first come first served, and a 503
with Retry-After once the line is full."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable

import httpx
import pytest

from agent_tui.server import ServerSettings, create_app
from agent_tui.server.app import _error
from agent_tui.server.turns import Busy, ReadTurns
from tests.server.conftest import Served


def _ticking(log: list[str]) -> Callable[[], None]:
    """A callback that notes every turn of the loop (it re-arms itself)."""

    def tick() -> None:
        log.append("turn")
        if len(log) < 200:
            asyncio.get_running_loop().call_soon(tick)

    return tick


def test_reads_run_one_per_turn_in_arrival_order() -> None:
    async def main() -> list[str]:
        log: list[str] = []
        turns = ReadTurns(per_turn=1, max_waiting=100)

        def read(n: int) -> int:
            log.append(f"read {n}")
            return n * 10

        asyncio.get_running_loop().call_soon(_ticking(log))
        results = await asyncio.gather(*(turns.run(functools.partial(read, n))
                                         for n in range(5)))
        assert results == [0, 10, 20, 30, 40]
        assert turns.waiting == 0
        return log

    log = asyncio.run(main())
    reads = [entry for entry in log if entry.startswith("read")]
    assert reads == [f"read {n}" for n in range(5)]
    # Between two reads the loop turned at least once (and so polled its sockets).
    for a, b in itertools.pairwise(log):
        assert not (a.startswith("read") and b.startswith("read")), log


def test_a_turn_runs_at_most_per_turn_reads() -> None:
    async def main() -> list[str]:
        log: list[str] = []
        turns = ReadTurns(per_turn=3, max_waiting=100)
        asyncio.get_running_loop().call_soon(_ticking(log))
        await asyncio.gather(*(turns.run(functools.partial(log.append, f"read {n}"))
                                for n in range(7)))
        return log

    log = asyncio.run(main())
    runs = "".join("r" if entry.startswith("read") else "." for entry in log)
    assert max(len(run) for run in runs.split(".")) == 3, runs


def test_a_full_line_refuses_with_busy_and_errors_reach_their_caller() -> None:
    async def main() -> None:
        turns = ReadTurns(per_turn=1, max_waiting=2)

        def boom() -> int:
            raise ValueError("the read failed")

        first = asyncio.ensure_future(turns.run(lambda: 1))
        second = asyncio.ensure_future(turns.run(boom))
        third = asyncio.ensure_future(turns.run(lambda: 3))
        fourth = asyncio.ensure_future(turns.run(lambda: 4))
        done = await asyncio.gather(first, second, third, fourth, return_exceptions=True)
        assert done[0] == 1
        assert isinstance(done[1], ValueError)
        assert done[2] == 3
        assert isinstance(done[3], Busy) and done[3].status_code == 503
        assert turns.refused == 1
        # Once the line has drained, reads are admitted again.
        assert await turns.run(lambda: 5) == 5

    asyncio.run(main())


def test_a_cancelled_waiter_is_skipped() -> None:
    async def main() -> None:
        ran: list[int] = []
        turns = ReadTurns(per_turn=1, max_waiting=10)
        first = asyncio.ensure_future(turns.run(lambda: ran.append(1)))
        second = asyncio.ensure_future(turns.run(lambda: ran.append(2)))
        third = asyncio.ensure_future(turns.run(lambda: ran.append(3)))
        await asyncio.sleep(0)  # all three have started: the first ran, two wait
        second.cancel()
        await asyncio.gather(first, third)
        assert ran == [1, 3]

    asyncio.run(main())


def test_busy_is_a_503_with_retry_after() -> None:
    response = _error(Busy("the server is saturated", retry_after=1.0))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert b'"error":"Busy"' in response.body


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        ReadTurns(per_turn=0)


def test_the_hot_path_sheds_reads_past_the_line(served: Served) -> None:
    """In-process: five requests start in one turn of the loop; with one read per
    turn and no room in the line, all but the first are refused."""
    settings = ServerSettings(rate=0, sla_sweep_interval=None, reads_per_turn=1,
                              max_waiting_reads=0)
    app = create_app(served.store.url, settings)

    async def main() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                         headers=served.auth("alice")) as client:
                # Token looked up and backend built, so nothing below waits on a thread.
                assert (await client.get("/api/v1/tickets")).status_code == 200
                await asyncio.sleep(0.01)
                return list(await asyncio.gather(*(
                    client.get(f"/api/v1/tickets/{served.ticket_id}") for _ in range(5))))

    responses = asyncio.run(main())
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 503, 503, 503, 503], codes
    refused = [r for r in responses if r.status_code == 503]
    assert all(r.headers["retry-after"] == "1" for r in refused)
    assert all(r.json()["error"] == "Busy" for r in refused)


def test_thread_reads_past_the_bound_are_refused_and_admitted_again_once_back() -> None:
    import threading

    async def main() -> None:
        turns = ReadTurns(per_turn=1, max_waiting=2)
        release = threading.Event()

        def slow() -> str:  # a PostgreSQL read waiting on the network
            release.wait(5)
            return "row"

        first = asyncio.ensure_future(turns.run_in_thread(slow))
        second = asyncio.ensure_future(turns.run_in_thread(slow))
        await asyncio.sleep(0.05)
        assert turns.in_threads == 2
        with pytest.raises(Busy):
            await turns.run_in_thread(slow)
        assert turns.refused == 1
        release.set()
        assert await asyncio.gather(first, second) == ["row", "row"]
        assert turns.in_threads == 0
        assert await turns.run_in_thread(lambda: "again") == "again"

    asyncio.run(main())
