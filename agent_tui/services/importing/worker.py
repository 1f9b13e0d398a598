"""Reading and validating a big import in a forked child while the parent writes.

A 100k-row ticket import spends about a third of its time parsing the
file, validating rows and preparing each created ticket's rows, work that
depends only on the file and on what the parent knew when it forked (the
store's teams and agents). The machine has more than one core and the
SQLite writes use one, so :class:`Forked` runs that work in a child
process (``os.fork``: the child starts with the parent's memory, no
re-import, no pickled arguments) and streams the results back a batch at
a time through a pipe; the parent matches and writes batch N while the
child reads batch N+1. The child never touches the database: everything
that depends on stored rows (matching, customers, duplicates, writing)
stays in the parent, in the parent's transaction, in file order, so the
import's results are the same with or without the child.

The child sends ``("item", x)`` for each item, then ``("done", extra)``,
or ``("invalid", field, message)`` when the file cannot be read (the
parent raises the same ``Invalid``), or ``("crash", traceback)``. It exits
with ``os._exit``: no ``atexit`` handler, no finaliser of the parent's
objects (its database connections above all) runs in the child.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, Pipe
from types import TracebackType
from typing import Any, Generic, TypeVar

from agent_tui.domain.errors import Invalid

T = TypeVar("T")

#: Below this file size the import stays in one process: forking costs a few
#: milliseconds and the overlap needs batches to overlap.
FORK_AT_BYTES = 2 * 1024 * 1024
#: The pipe's buffer (Linux): room for a couple of batches, so the child can
#: run ahead of a parent busy with a slow batch.
PIPE_BYTES = 4 * 1024 * 1024


def can_fork() -> bool:
    """Whether forking is possible and safe here.

    A fork copies only the calling thread; a lock another thread held at
    that moment stays locked in the child forever. So: only from a process
    with a single thread (the CLI), never from the app or the server.
    """
    return hasattr(os, "fork") and sys.platform != "win32" and threading.active_count() == 1


def spare_core() -> bool:
    """Whether a core is idle enough for the child to run beside the writer.

    The overlap only pays on a free core: on a machine busy with other
    work the child gets a slice of a core, the writer waits for its
    batches, and the import takes longer than in one process (measured:
    17 s instead of 10 s for 100k rows at a load of 4 on 2 cores). So:
    at least two usable cores and a 1-minute load average that leaves one.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return False
    try:
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load <= cpus - 1


class Forked(Generic[T]):
    """Iterate over ``produce()`` run in a forked child; use as a context manager.

    ``produce`` is called in the child; ``finish()`` is called there after
    the last item and its result (picklable) becomes :attr:`extra` in the
    parent once iteration is over. Leaving the context stops the child
    (when the parent gives up early) and reaps it.
    """

    def __init__(self, produce: Callable[[], Iterable[T]],
                 finish: Callable[[], Any] = lambda: None) -> None:
        self.extra: Any = None
        self._done = False
        reader, writer = Pipe(duplex=False)
        self._pipe: Connection = reader
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child; its effects are checked
            reader.close()
            _child(writer, produce, finish)
        writer.close()

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child if it is still at work, and reap it."""
        if self.pid <= 0:
            return
        pid, self.pid = self.pid, 0
        self._pipe.close()
        if not self._done:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)

    def __iter__(self) -> Iterator[T]:
        recv = self._pipe.recv_bytes
        loads = pickle.loads
        while True:
            try:
                message = loads(recv())
            except EOFError:
                raise RuntimeError("the import's reading process died") from None
            tag = message[0]
            if tag == "item":
                yield message[1]
            elif tag == "done":
                self._done = True
                self.extra = message[1]
                return
            elif tag == "invalid":
                self._done = True
                raise Invalid(message[1], message[2])
            else:
                self._done = True
                raise RuntimeError(f"the import's reading process failed:\n{message[1]}")


def _child(pipe: Connection, produce: Callable[[], Iterable[Any]],
           finish: Callable[[], Any]) -> None:  # pragma: no cover - runs in the child
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        try:
            import fcntl

            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # not Linux, or over the system's limit: the default buffer works too
        send, dumps = pipe.send_bytes, pickle.dumps
        try:
            for item in produce():
                send(dumps(("item", item), pickle.HIGHEST_PROTOCOL))
            send(dumps(("done", finish()), pickle.HIGHEST_PROTOCOL))
        except Invalid as exc:
            send(dumps(("invalid", exc.field, exc.message), pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            code = 1  # the parent stopped listening
        except BaseException:
            code = 1
            send(dumps(("crash", traceback.format_exc()), pickle.HIGHEST_PROTOCOL))
    except BaseException:
        code = 1
    finally:
        os._exit(code)
