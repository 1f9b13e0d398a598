"""Lean JSON responses: read models are serialised by pydantic-core straight to
bytes (no response_model validation pass), while each route still declares
its response model so the OpenAPI schema stays accurate."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Response
from pydantic import BaseModel, TypeAdapter

JSON = "application/json"


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def send(value: BaseModel | None) -> Response:
    if value is None:
        return Response(b"null", media_type=JSON)
    return Response(value.__pydantic_serializer__.to_json(value), media_type=JSON)


def send_as(value: Any, tp: Any) -> Response:
    """``value`` serialised as type ``tp`` (lists, ints, optionals)."""
    return Response(_adapter(tp).dump_json(value), media_type=JSON)
