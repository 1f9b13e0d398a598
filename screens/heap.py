"""Keeping the garbage collector's full passes off the keys an agent presses.

CPython's full (generation 2) collection walks every live container object.
Once the queue and a ticket workspace are built that is a few hundred
thousand objects — widgets, styles, caches, SQLAlchemy's compiled statements —
and a full pass took ~65 ms, landing on every fourth ticket opened or so
(measured with ``benchmarks/ui_bench.py`` on a 1M-ticket store).

Almost all of those objects live as long as the app does. So at two settled
moments (the queue's first page is on screen; the first workspace is built)
the app collects once and freezes what survived (:func:`gc.freeze`): later
passes walk only what came after. Full passes then no longer start on their
own in the middle of a key press: the app runs one every
:data:`FULL_PASS_EVERY` seconds, at a moment when the agent has not pressed a
key for :data:`IDLE` (reading a ticket, say), where its tens of ms go
unnoticed; one that found no such moment for :data:`FULL_PASS_AT_MOST` runs
anyway. (A plain timer landed the pass, 48-64 ms by now, inside every other
ticket opened by someone working fast.) The young generations are collected as
ever, only in larger batches. Garbage is still collected; only the moment changes.
"""

from __future__ import annotations

import gc
import time
import weakref

from textual.app import App

#: Collections of the young generations: objects allocated (less freed) before a
#: generation-0 pass, and generation-0 passes per generation-1 pass. CPython's
#: defaults are 700 and 10; a key press in the workspace allocates tens of
#: thousands of objects, so the default ran ~5 passes per ticket opened.
YOUNG_THRESHOLDS = (5_000, 20)
#: Generation-1 passes before a full one starts by itself: in effect never,
#: as the timer below runs a full pass first.
OLD_THRESHOLD = 1_000_000
FULL_PASS_EVERY = 15.0  # seconds between full passes, once settled ...
IDLE = 1.0  # ... run once no key was pressed for this long ...
FULL_PASS_AT_MOST = 60.0  # ... or after this long regardless
CHECK_EVERY = 0.5

_last_input = 0.0  # time.monotonic() of the latest key or click, process-wide
_last_pass = 0.0

_frozen: set[str] = set()  # stages frozen in this process: a freeze is process-wide
_timed: weakref.WeakSet[App[object]] = weakref.WeakSet()  # apps running the full pass


def note_input() -> None:
    """A key or click arrived (the app calls this for every input event)."""
    global _last_input
    _last_input = time.monotonic()


def _full_pass() -> None:
    global _last_pass
    gc.collect()
    _last_pass = time.monotonic()


def _maybe_full_pass() -> None:
    now = time.monotonic()
    since = now - _last_pass
    if since >= FULL_PASS_AT_MOST or (since >= FULL_PASS_EVERY and now - _last_input >= IDLE):
        _full_pass()


def _settle(stage: str) -> None:
    if stage in _frozen:
        return
    first = not _frozen
    _frozen.add(stage)
    gc.collect()
    gc.freeze()
    if first:
        gc.set_threshold(*YOUNG_THRESHOLDS, OLD_THRESHOLD)


def settle_after_refresh(app: App[object], stage: str) -> None:
    """Once per process and ``stage``: after the next screen refresh, collect and freeze.

    After the refresh, so the frame the agent is waiting for is not delayed by
    the one collection this costs. Every app that settles runs the full pass
    on its timer (a process may run several apps one after another, as tests do).
    """
    if app not in _timed:
        if _frozen:
            # Not the process's first app: collect what the apps before it left.
            app.call_after_refresh(_full_pass)
        _timed.add(app)
        global _last_pass
        _last_pass = time.monotonic()
        app.set_interval(CHECK_EVERY, _maybe_full_pass)
    if stage not in _frozen:
        app.call_after_refresh(_settle, stage)
