"""A tiny fork server for the crash test: import once, fork a writer per round.

Run as ``python -m tests.reliability.crash_server URL LOGIN``. It prints
``ready``, then obeys one command per line on stdin:

- ``fork``: fork a child running ``worker.crash_writer``; print ``pid N``.
  The child prints ``t ID VERSION`` / ``r ID VERSION`` as each ticket or
  reply commits.
- ``reap N``: wait for child N (the test has killed it) and print
  ``dead N CODE`` (``-9`` after SIGKILL).

Everything goes through one pipe, one ``os.write`` per line (atomic below
PIPE_BUF), so lines never mix, and every ack a child managed to write comes
before the ``dead`` line the server writes after reaping it.

A fresh interpreter per round would spend ~0.5 s importing the app; a fork
from here starts writing within a few milliseconds. The server never opens
the store itself, so no SQLite connection crosses a fork.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from agent_tui.domain.enums import Role
from agent_tui.services import agents
from agent_tui.store import open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import upgrade
from tests.reliability.worker import crash_writer


def _warm_up(login: str) -> None:
    """Run the writer's code paths once on a scratch store before any fork.

    Mapper set-up, model validation and statement construction happen once
    per process; doing them here means every child writes within
    milliseconds of its fork instead of spending its first ~150 ms on them.
    """
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'warm.db'}"
        store = open_store(url)
        try:
            upgrade(store)
            admin = Actor.system()
            with store.write() as s:
                agents.add_team(s, admin, name="tech")
                agents.add_agent(s, admin, login=login, name=login, role=Role.AGENT,
                                 teams=["tech"])
        finally:
            store.dispose()
        acks: list[str] = []

        def ack(line: str) -> None:
            acks.append(line)
            if len(acks) >= 4:
                raise _WarmedUp

        with contextlib.suppress(_WarmedUp):
            crash_writer(url, login, ack)


class _WarmedUp(Exception):
    pass


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def main() -> None:
    url, login = sys.argv[1], sys.argv[2]
    _warm_up(login)
    _say("ready")
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "fork":
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    crash_writer(url, login, _say)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)  # never return into the server's loop
            _say(f"pid {pid}")
        elif cmd == "reap":
            pid = int(args[0])
            _, status = os.waitpid(pid, 0)
            _say(f"dead {pid} {os.waitstatus_to_exitcode(status)}")
        elif cmd == "quit":
            break


if __name__ == "__main__":
    main()
