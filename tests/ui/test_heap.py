"""The garbage collector's full passes wait for a pause in the agent's keys."""

from __future__ import annotations

import pytest

from screens import heap

PASSES: list[float] = []


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    PASSES.clear()
    monkeypatch.setattr(heap.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(heap.gc, "collect", lambda *a: PASSES.append(now[0]) or 0)
    monkeypatch.setattr(heap, "_last_pass", 1000.0)
    monkeypatch.setattr(heap, "_last_input", 0.0)
    return now


def tick(now: list[float], seconds: float, *, typing: bool) -> None:
    end = now[0] + seconds
    while now[0] < end:
        now[0] += heap.CHECK_EVERY
        if typing:
            heap.note_input()
        heap._maybe_full_pass()


def test_a_full_pass_waits_for_a_pause_and_never_forever(clock: list[float]) -> None:
    passes = PASSES
    tick(clock, heap.FULL_PASS_EVERY - 1, typing=False)
    assert passes == []  # not due yet
    tick(clock, 10, typing=True)
    assert passes == []  # due, but the agent is pressing keys
    tick(clock, heap.IDLE + heap.CHECK_EVERY, typing=False)
    assert len(passes) == 1  # the first pause
    tick(clock, heap.FULL_PASS_AT_MOST + 1, typing=True)
    assert len(passes) == 2  # typing without a pause for a minute: run anyway
