"""The fast path for validating ticket rows: the common clean row in one go.

:func:`records.ticket` validates a row cell by cell through generic helpers
and collects every problem, which costs ~50 µs a row: most of a big
import's validation time, paid in both passes. Nearly every row of a real
file is clean, so :class:`TicketFastPath` tries the row first with inlined
checks and per-pass memos of the closed vocabularies (status, priority,
channel, team, assignee, tags), and gives up (returns None) at the first
thing it does not expect: a read problem, a list cell, a cell that does not
parse, a missing required value. The full validator then decides, so error
messages have one source, and a record the fast path returns is equal to
the one the full validator builds (``tests/test_import.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_tui.domain.enums import Channel, Status
from agent_tui.domain.html_text import looks_like_html
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.services.importing import fields as f
from agent_tui.services.importing.records import CustomerRef, Lookups, TicketRecord
from agent_tui.services.importing.source import RawRow
from agent_tui.services.tickets import MAX_BODY

#: Distinct raw cells remembered per vocabulary; beyond it cells are parsed each time.
MEMO_LIMIT = 20_000


class _Slow(Exception):
    """This row needs the full validator."""


def _line(cell: Any, max_len: int) -> str | None:
    """``fields.line`` for an optional cell: None when blank; _Slow when unusual."""
    if not cell:
        return None
    if cell.__class__ is not str:
        raise _Slow
    if cell.isprintable():
        value = cell.strip()
        if not value:
            return None
    else:
        if cell.isspace():
            return None
        value = safe_line(cell).strip()
    if len(value) > max_len:
        raise _Slow
    return value


def _memo(table: dict[str, Any], cell: Any, parse: Callable[[str], Any]) -> Any:
    """``parse(cell)`` remembered by the raw cell (only successes are remembered)."""
    if not cell:
        return None
    try:
        return table[cell]
    except KeyError:
        pass
    except TypeError:  # a list from JSONL: not hashable, not ours
        raise _Slow from None
    if cell.__class__ is not str:
        raise _Slow
    if cell.isspace():
        return None
    try:
        value = parse(cell)
    except f.FieldError:
        raise _Slow from None
    if len(table) < MEMO_LIMIT:
        table[cell] = value
    return value


class TicketFastPath:
    """Validates clean ticket rows quickly; None means "ask the full validator"."""

    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups
        self._status: dict[str, Status] = {}
        self._channel: dict[str, Channel] = {}
        self._priority: dict[str, int] = {}
        self._team: dict[str, int] = {}
        self._agent: dict[str, int] = {}
        self._tags: dict[str, tuple[str, ...]] = {}
        self._emails: dict[str, str] = {}
        # One shared set of given columns per file layout, not one per row.
        self._given: dict[frozenset[str], frozenset[str]] = {}

    def _lookup(self, cell: str, table: dict[str, int]) -> int:
        raw = f.line(cell, 320)
        found = table.get(" ".join(raw.split()).casefold())
        if found is None:
            raise f.FieldError("unknown")
        return found

    def __call__(self, raw: RawRow) -> TicketRecord | None:
        if raw.problems:
            return None
        try:
            return self._record(raw)
        except _Slow:
            return None

    def _record(self, raw: RawRow) -> TicketRecord:
        cells = raw.cells
        get = cells.get
        external_id = _line(get("external_id"), 200)
        subject = _line(get("subject"), 10_000)
        body_cell = get("body")
        if (not external_id or not subject or not body_cell or body_cell.__class__ is not str
                or ("<" in body_cell and looks_like_html(body_cell))):
            raise _Slow  # (HTML: f.body turns it into text)
        body = safe_text(body_cell).strip("\n")
        if len(body) > MAX_BODY or not body.strip():
            raise _Slow
        email = _memo(self._emails, get("customer_email"), f.email)
        phone_cell = get("customer_phone")
        phone = None
        if phone_cell and not (phone_cell.__class__ is str and phone_cell.isspace()):
            if phone_cell.__class__ is not str:
                raise _Slow
            try:
                phone = f.phone(phone_cell)
            except f.FieldError:
                raise _Slow from None
        if email is None and phone is None:
            raise _Slow
        team = _memo(self._team, get("team"), lambda c: self._lookup(c, self.lookups.teams))
        assignee = _memo(self._agent, get("assignee"),
                         lambda c: self._lookup(c, self.lookups.agents))
        tags = _memo(self._tags, get("tags"), lambda c: tuple(f.tags(c)))
        created_cell = get("created_at")
        created_at = None
        if created_cell:
            if created_cell.__class__ is not str:
                raise _Slow
            try:
                created_at = f.timestamp(created_cell)
            except f.FieldError:
                raise _Slow from None
        given = frozenset(cells)
        return TicketRecord(
            line=raw.line, given=self._given.setdefault(given, given), external_id=external_id,
            subject=subject[:500], body=body,
            customer=CustomerRef(email=email, phone=phone, name=_line(get("customer_name"), 200)),
            status=_memo(self._status, get("status"), lambda c: f.choice(c, Status, "status")),
            priority=_memo(self._priority, get("priority"), f.priority),
            channel=_memo(self._channel, get("channel"),
                          lambda c: f.choice(c, Channel, "channel")),
            team_id=team, assignee_id=assignee, tags=list(tags) if tags else [],
            category=_line(get("category"), 100) or None,
            product=_line(get("product"), 100) or None,
            created_at=created_at,
        )
