"""HTTP plumbing of RemoteBackend: typed errors back from responses, retries, SSE parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent_tui.backend import (
    BackendError,
    Conflict,
    EventView,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)

#: Pauses between attempts of an idempotent read (then Unavailable): ~3.5 s in all.
READ_BACKOFF = (0.1, 0.25, 0.5, 1.0, 1.5)
#: Pauses between reconnects of the event stream before ``subscribe`` raises
#: Unavailable (~2 s): short drops are bridged inside, longer ones are shown
#: ("reconnecting…") and the caller subscribes again from its last seq.
STREAM_BACKOFF = (0.2, 0.5, 1.0)
#: Statuses after which a read is worth trying again.
RETRY_STATUS = frozenset({429, 502, 503, 504})


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"message": response.text[:200] or response.reason_phrase}
    return data if isinstance(data, dict) else {"message": str(data)}


def error_from(response: httpx.Response) -> BackendError:
    """The typed error a non-2xx response stands for (the server's mapping, reversed)."""
    data = _body(response)
    message = str(data.get("message") or data.get("detail") or response.reason_phrase)
    status = response.status_code
    if status == 404 and "entity" in data:
        return NotFound(str(data["entity"]), data.get("key"))
    if status == 409 and "current_version" in data:
        return Conflict(int(data["current_version"]), data.get("changed_by"),
                        str(data.get("entity") or "ticket"), data.get("key"))
    if status == 422:
        field = str(data.get("field") or "request")
        prefix = f"{field}: "
        return Invalid(field, message[len(prefix):] if message.startswith(prefix) else message)
    if status in (401, 403):
        return Forbidden(message)
    if status == 413:
        return Invalid("body", message)
    if status == 404:
        return NotFound("route", response.request.url.path)
    if status == 429 or status >= 500:
        return Unavailable(f"the server said {status}: {message}")
    return Invalid("request", f"the server said {status}: {message}")


def transport_error(exc: httpx.TransportError, url: str) -> Unavailable:
    reason = str(exc) or type(exc).__name__
    return Unavailable(f"cannot reach the server at {url}: {reason}")


def never_sent(exc: httpx.TransportError) -> bool:
    """True when the request cannot have reached the server: safe to send again."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


async def events_of(lines: AsyncIterator[str]) -> AsyncIterator[EventView]:
    """EventViews from an SSE stream (``id``/``event``/``data`` fields, blank-line framed)."""
    data: list[str] = []
    kind = "message"
    async for line in lines:
        if not line:
            if data and kind == "event":
                yield EventView.model_validate_json("\n".join(data))
            data, kind = [], "message"
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
