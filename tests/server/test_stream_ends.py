"""An open SSE stream ends when its token is revoked or its agent changes.

A stream's role, and so what it masks, is fixed when it connects; the cached
token is dropped on the same events (tests/server/test_revocation.py). So a
revoked token, a disabled agent or a demoted or promoted one must not keep
receiving the feed on a stream opened before: the stream ends at that event,
and the client's reconnect is authenticated afresh (401 for a revoked token).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from agent_tui.domain.enums import Role
from agent_tui.services import agents, tokens
from tests.server.conftest import Served
from tests.server.serving import ADMIN


def _stream_until_closed(served: Served, secret: str, opened: threading.Event,
                         out: dict[str, object]) -> None:
    headers = {"authorization": f"Bearer {secret}", "accept": "text/event-stream"}
    lines: list[str] = []
    with httpx.stream("GET", f"{served.url}/api/v1/events", headers=headers,
                      timeout=httpx.Timeout(15.0)) as response:
        out["status"] = response.status_code
        opened.set()
        for line in response.iter_lines():
            lines.append(line)
    out["lines"] = lines
    out["closed_at"] = time.monotonic()


def _ends_on(served: Served, login: str, change: Callable[[int], None]) -> dict[str, object]:
    token, secret = served.store.run_write(
        lambda s: tokens.create_token(s, ADMIN, login, name="stream"))
    out: dict[str, object] = {}
    opened = threading.Event()
    reader = threading.Thread(target=_stream_until_closed, args=(served, secret, opened, out))
    reader.start()
    assert opened.wait(10) and out["status"] == 200
    time.sleep(0.3)  # the stream is following the live feed
    changed_at = time.monotonic()
    change(token.id)
    reader.join(10)
    assert not reader.is_alive(), "the stream did not end"
    assert float(out["closed_at"]) - changed_at < 3.0  # type: ignore[arg-type]
    out["secret"] = secret
    return out


def test_revoking_the_token_ends_its_open_stream(served: Served) -> None:
    out = _ends_on(served, "alice", lambda token_id: served.store.run_write(
        lambda s: tokens.revoke_token(s, ADMIN, token_id)))
    again = httpx.get(f"{served.url}/api/v1/events/last",
                      headers={"authorization": f"Bearer {out['secret']}"})
    assert again.status_code == 401


def test_a_demoted_or_promoted_agent_reconnects_with_the_new_role(served: Served) -> None:
    def promote(_token_id: int) -> None:
        served.store.run_write(lambda s: agents.set_agent(s, ADMIN, "bob",
                                                          role=Role.SUPERVISOR))

    try:
        out = _ends_on(served, "bob", promote)
        again = httpx.get(f"{served.url}/api/v1/me",
                          headers={"authorization": f"Bearer {out['secret']}"})
        assert again.status_code == 200 and again.json()["role"] == "supervisor"
    finally:
        served.store.run_write(lambda s: agents.set_agent(s, ADMIN, "bob", role=Role.AGENT))


def test_other_streams_go_on(served: Served) -> None:
    """Revoking one token ends that token's stream only."""
    sams, sam_secret = served.store.run_write(
        lambda s: tokens.create_token(s, ADMIN, "sam", name="stays"))
    keep: dict[str, object] = {}
    opened = threading.Event()
    reader = threading.Thread(target=_stream_until_closed,
                              args=(served, sam_secret, opened, keep))
    reader.start()
    assert opened.wait(10)
    _ends_on(served, "alice", lambda token_id: served.store.run_write(
        lambda s: tokens.revoke_token(s, ADMIN, token_id)))
    time.sleep(0.5)
    assert reader.is_alive()  # sam's stream is still open
    served.store.run_write(lambda s: tokens.revoke_token(s, ADMIN, sams.id))
    reader.join(10)
    assert not reader.is_alive()
