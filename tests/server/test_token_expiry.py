"""A token is refused the moment it expires, not up to the server's auth cache later."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from agent_tui.server.auth import AUTH_CACHE_SECONDS
from agent_tui.services import tokens
from tests.server.conftest import Served
from tests.server.serving import ADMIN


def test_an_expiring_token_is_refused_as_it_expires(served: Served) -> None:
    lifetime = 1.0
    assert lifetime < AUTH_CACHE_SECONDS  # otherwise the cache could not outlive it
    _view, secret = served.store.run_write(lambda s: tokens.create_token(
        s, ADMIN, "alice", name="short", expires_in=timedelta(seconds=lifetime)))
    headers = {"authorization": f"Bearer {secret}"}
    started = time.monotonic()
    assert httpx.get(f"{served.url}/api/v1/me", headers=headers).status_code == 200  # cached
    time.sleep(max(0.0, lifetime + 0.2 - (time.monotonic() - started)))
    refused = httpx.get(f"{served.url}/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert "expired" in refused.json()["message"]
