"""Typed errors of the Backend contract; the server maps them to HTTP codes."""

from __future__ import annotations


class BackendError(Exception):
    """Base of every error the Backend contract may raise."""

    status_code = 500

    def to_dict(self) -> dict[str, object]:
        return {"error": type(self).__name__, "message": str(self)}


class NotFound(BackendError):
    status_code = 404

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key} not found")
        self.entity = entity
        self.key = key

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "entity": self.entity, "key": str(self.key)}


class Forbidden(BackendError):
    status_code = 403


class Invalid(BackendError):
    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "field": self.field}


class Conflict(BackendError):
    """A stale write: somebody saved the entity since the caller read it."""

    status_code = 409

    def __init__(self, current_version: int, changed_by: str | None, entity: str = "ticket",
                 key: object = None) -> None:
        who = changed_by or "someone"
        super().__init__(f"{entity} {key} was changed by {who} (now version {current_version})")
        self.current_version = current_version
        self.changed_by = changed_by
        self.entity = entity
        self.key = key

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "current_version": self.current_version,
                "changed_by": self.changed_by}


class Unavailable(BackendError):
    status_code = 503
