"""Timing helpers shared by the benchmark scripts (run as scripts: this directory is on
``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def pct(samples: list[float], p: float) -> float:
    """The ``p``-th percentile by nearest rank, in the samples' unit, 3 decimals (0 if none)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[k], 3)


def timed(fn: Callable[[], Any], n: int) -> dict[str, float]:
    """Wall and CPU time per call: the CPU figure holds on a shared machine."""
    fn()  # warm the page cache and statement cache
    ms, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": round(max(ms), 3),
            "cpu_p50_ms": pct(cpu, 50), "cpu_p95_ms": pct(cpu, 95), "n": n}
