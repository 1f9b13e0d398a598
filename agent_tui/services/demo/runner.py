"""Making demo batches in worker processes while the main process writes.

Generating text is pure Python and so is binding SQLite parameters; the
database work itself is C. On SQLite a worker therefore generates a batch
*and* writes it to a staging file (``store.bulk.stage_file``), and the main
process only promotes staged files with ``INSERT … SELECT``. On PostgreSQL
workers return the batch and the main process streams it with ``COPY``.

Batches are a pure function of ``(plan, number)``, so the result does not
depend on the number of workers or on which finishes first; results are
consumed in order, with a bounded number in flight (memory stays flat).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from agent_tui.services.demo.content import load_content
from agent_tui.services.demo.customers import customer_batch
from agent_tui.services.demo.plan import DemoPlan
from agent_tui.services.demo.tickets import TicketGenerator
from agent_tui.store.bulk import Batch, stage_file

_generators: dict[tuple[object, ...], TicketGenerator] = {}


def make_batch(plan: DemoPlan, kind: str, number: int) -> Batch:
    """Batch ``number`` of ``kind`` ("customers" or "tickets") for ``plan``."""
    content = load_content()
    if kind == "customers":
        return customer_batch(plan, content, number)
    key = (plan.seed, plan.now_us, plan.tickets, plan.customer_bases, plan.full_history,
           plan.unsolved_share)
    generator = _generators.get(key)
    if generator is None:
        _generators.clear()  # one plan per build; do not keep old ones alive
        generator = _generators[key] = TicketGenerator(plan, content)
    return generator.batch(number)


def _work(plan: DemoPlan, kind: str, number: int, stage_dir: str | None) -> Batch | str:
    batch = make_batch(plan, kind, number)
    if stage_dir is None:
        return batch
    return str(stage_file(Path(stage_dir) / f"{kind}-{number:06d}.db", batch))


class Pipeline:
    """Batches made in this process (``workers=0``) or by a pool of processes."""

    def __init__(self, *, workers: int, staged: bool) -> None:
        self.workers = workers
        self.staged = staged
        self._pool: ProcessPoolExecutor | None = None
        self._dir: str | None = None

    def __enter__(self) -> Pipeline:
        if self.workers > 0:
            # fork starts in milliseconds and shares the loaded content; the
            # children never touch the parent's database connections (they only
            # write their own staging files) and leave through os._exit.
            method = "fork" if sys.platform == "linux" else "spawn"
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=multiprocessing.get_context(method))
            if self.staged:
                shm = Path("/dev/shm")
                base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
                self._dir = tempfile.mkdtemp(prefix="agent-tui-demo-", dir=base)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, plan: DemoPlan, kind: str, count: int) -> Iterator[Batch | Path]:
        """Yield batches 0…count-1 in order: a Batch, or a staged file to promote."""
        if self._pool is None:
            for number in range(count):
                yield make_batch(plan, kind, number)
            return
        window = 2 * self.workers + 1
        pending: dict[int, Future[Batch | str]] = {}
        submitted = 0
        for number in range(count):
            while submitted < count and submitted < number + window:
                pending[submitted] = self._pool.submit(_work, plan, kind, submitted, self._dir)
                submitted += 1
            result = pending.pop(number).result()
            if isinstance(result, str):
                path = Path(result)
                try:
                    yield path
                finally:
                    path.unlink(missing_ok=True)
            else:
                yield result

