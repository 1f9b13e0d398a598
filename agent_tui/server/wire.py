"""Lean JSON responses: read models are serialised by pydantic-core straight to
bytes (no response_model validation pass), while each route still declares
its response model so the OpenAPI schema stays accurate."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import Response
from pydantic import BaseModel, TypeAdapter

from agent_tui.server.turns import ReadTurns
from agent_tui.services import wire_reads
from agent_tui.store import Store

R = TypeVar("R")

JSON = "application/json"


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def send(value: BaseModel | None) -> Response:
    if value is None:
        return Response(b"null", media_type=JSON)
    return Response(value.__pydantic_serializer__.to_json(value), media_type=JSON)


async def lean_read(store: Store, fn: Callable[[sa.Connection], R],
                    turns: ReadTurns | None = None) -> R:
    """Run a ``services.wire_reads`` read for a hot route.

    On SQLite it runs right here on the event loop: the page or the ticket
    reads in ~0.5 ms from a local file and never waits on a writer (WAL),
    while the hop to a worker thread and back costs about as much CPU again,
    plus the GIL hand-offs between the loop and the thread. ``turns`` (the
    app's ``ReadTurns``) then runs it in its turn when the server is saturated.
    PostgreSQL reads wait on the network, so they go to a thread and the loop
    keeps serving (``turns`` then refuses a read once too many are out).
    """
    if store.is_sqlite:
        if turns is not None:
            return await turns.run(lambda: wire_reads.run_read(store, fn))
        return wire_reads.run_read(store, fn)
    if turns is not None:
        return await turns.run_in_thread(lambda: wire_reads.run_read(store, fn))
    return await asyncio.to_thread(wire_reads.run_read, store, fn)


def send_dict(value: Any) -> Response:
    """A JSON-ready dict (``services.wire_reads``) serialised by orjson, which writes
    the same bytes pydantic would for these values."""
    return Response(wire_reads.dumps(value), media_type=JSON)


def send_as(value: Any, tp: Any) -> Response:
    """``value`` serialised as type ``tp`` (lists, ints, optionals)."""
    return Response(_adapter(tp).dump_json(value), media_type=JSON)
