"""Real servers for tests: uvicorn on 127.0.0.1, in a thread or as `agent-tui serve`.

The thread variant is cheap (the app is already imported), so the contract
suite can start one per test; the subprocess variant is the real command,
for restarts and kill -9.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import uvicorn

from agent_tui.domain.enums import Source
from agent_tui.server import ServerSettings, create_app
from agent_tui.services import tokens
from agent_tui.store import Store
from agent_tui.store.events import Actor

ADMIN = Actor.system(Source.CLI, login="cli:test")
#: Tests want every request through: no rate limit, no background SLA sweep.
TEST_SETTINGS = ServerSettings(rate=0, sla_sweep_interval=None, poll_interval=0.05,
                               sse_per_user=50)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_tokens(store: Store, logins: Iterable[str]) -> dict[str, str]:
    """One fresh API token per login; returns login → secret."""
    out: dict[str, str] = {}
    with store.write() as s:
        for login in logins:
            _, secret = tokens.create_token(s, ADMIN, login, name="test")
            out[login] = secret
    return out


def wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not come up: {last}")


class ThreadServer:
    """``create_app`` under uvicorn in a daemon thread of the test process."""

    def __init__(self, store_url: str, settings: ServerSettings = TEST_SETTINGS, *,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(store_url, settings), host="127.0.0.1",
                                port=self.port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True,
                                       name=f"uvicorn:{self.port}")

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class ProcessServer:
    """``agent-tui serve`` as a child process (restart it, kill -9 it)."""

    def __init__(self, store_url: str, log: Path, *, port: int | None = None,
                 args: Iterable[str] = ()) -> None:
        self.store_url = store_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessServer:
        cmd = [str(Path(sys.executable).with_name("agent-tui")), "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--db", self.store_url, "--rate", "0",
               *self.args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(self.url)
        except RuntimeError:
            self.kill()
            raise RuntimeError(self.log.read_text(errors="replace")[-2000:]) from None
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what a crash looks like."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
