"""Parsing one cell: text, e-mails, phones, enums, dates, amounts, tags, items.

Each parser takes the raw cell (text, or a list from a JSONL array) and
returns a clean value or raises :class:`FieldError` with a message that
tells a person what to fix. No I/O.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from agent_tui.domain.enums import Priority
from agent_tui.domain.html_text import html_to_text, looks_like_html
from agent_tui.domain.rules import normalise_tags
from agent_tui.domain.safe_text import safe_line, safe_text

Cell = str | list[str]
E = TypeVar("E", bound=Enum)

# Plausible, not RFC 5322: one @, no spaces or brackets, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][a-z0-9]{2,8})*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


class FieldError(ValueError):
    """A cell that cannot be used; the message says why."""


def text_of(cell: Cell | None, *, multiline: bool = False) -> str:
    """The cell as cleaned text (``safe_text``/``safe_line``), stripped."""
    if cell is None:
        return ""
    if cell.__class__ is list:
        raise FieldError("expected text, got a list")
    assert isinstance(cell, str)
    if multiline:
        return safe_text(cell).strip("\n")
    if cell.isprintable():  # the common case: no controls, no bidi overrides, one line
        return cell.strip()
    return safe_line(cell).strip()


def line(cell: Cell | None, max_len: int, *, required: bool = False) -> str:
    """Single-line customer text (names, subjects): cleaned, length-checked."""
    value = text_of(cell)
    if required and not value:
        raise FieldError("must not be empty")
    if len(value) > max_len:
        raise FieldError(f"longer than {max_len} characters")
    return value


def body(cell: Cell | None, max_len: int) -> str:
    """Multi-line customer text (message bodies, articles); HTML becomes its plain text."""
    if isinstance(cell, str) and looks_like_html(cell):
        cell = html_to_text(cell)
    value = text_of(cell, multiline=True)
    if not value.strip():
        raise FieldError("must not be empty")
    if len(value) > max_len:
        raise FieldError(f"longer than {max_len} characters")
    return value


def email(cell: Cell | None) -> str:
    """A plausible e-mail address, lower-cased."""
    value = text_of(cell).lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise FieldError(f"not an e-mail address: {value!r}")
    return value


def phone(cell: Cell | None) -> str:
    """``+44 (20) 7946-0958`` → ``+442079460958``; at least 5 digits."""
    value = text_of(cell)
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) < 5 or len(digits) > 20:
        raise FieldError(f"not a phone number: {value!r}")
    return ("+" if value.startswith("+") else "") + digits


#: Words other help desks export for our values, the same in any of them; anything
#: else is refused with a --map hint. (WhatsApp and the like are left to --map:
#: some teams file them under chat, others under social.)
_SYNONYMS: dict[str, dict[str, str]] = {
    "Status": {"hold": "on_hold", "onhold": "on_hold", "resolved": "solved",
               "waiting_on_customer": "pending", "awaiting_customer": "pending"},
    "Channel": {"mail": "email", "e_mail": "email", "web_form": "web", "webform": "web",
                "form": "web", "portal": "web", "voice": "phone", "call": "phone",
                "telephone": "phone", "live_chat": "chat", "livechat": "chat",
                "messaging": "chat", "mobile": "app", "mobile_app": "app", "twitter": "social",
                "x": "social", "facebook": "social", "instagram": "social"},
}


@functools.cache
def _members(enum: type[Enum]) -> dict[str, Enum]:
    members: dict[str, Enum] = {str(m.value): m for m in enum}
    for word, value in _SYNONYMS.get(enum.__name__, {}).items():
        members.setdefault(word, enum(value))
    return members


def choice(cell: Cell | None, enum: type[E], column: str) -> E:
    """A value of ``enum``, case-insensitive; the error shows how to map it."""
    raw = text_of(cell)
    member = _members(enum).get(raw.lower().replace(" ", "_").replace("-", "_"))
    if member is not None:
        return member  # type: ignore[return-value]
    allowed = ", ".join(str(m.value) for m in enum)
    raise FieldError(f"unknown value {raw!r} (use {allowed}, "
                     f"or map it: --map \"{column}:{raw}=VALUE\")")


def word(cell: Cell | None, allowed: Sequence[str], column: str) -> str:
    """One of a closed list of words, case-insensitive."""
    raw = text_of(cell)
    key = raw.lower()
    if key not in allowed:
        raise FieldError(f"unknown value {raw!r} (use {', '.join(allowed)}, "
                         f"or map it: --map \"{column}:{raw}=VALUE\")")
    return key


def priority(cell: Cell | None) -> int:
    """``low``/``normal``/``high``/``urgent`` (any case) or 1-4."""
    raw = text_of(cell)
    try:
        return int(Priority.parse(raw))
    except ValueError:
        raise FieldError(f"unknown value {raw!r} (use low, normal, high, urgent, "
                         f"or map it: --map \"priority:{raw}=VALUE\")") from None


def timestamp(cell: Cell | None) -> datetime:
    """A date or date-time as exports write them; a time without zone is UTC.

    ISO 8601 first (the fast path: most files). Then what other tools export:
    RFC 2822 (``Thu, 05 Jan 2023 14:22:11 GMT``), Twitter's ``Tue Oct 31
    22:10:47 +0000 2017``, ``Jan 5, 2023 2:22 PM``, ``2023/01/05 14:22``,
    ``2023年1月5日 14:22``. A date that names no year, month or day, or a zone
    abbreviation nobody can resolve (``PST``), is refused rather than guessed,
    and so is ``03/04/2023``: day or month first cannot be told from the text.
    """
    raw = text_of(cell)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = _exported_date(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


#: How the running import reads an all-numeric date such as 03/04/2023: "dmy",
#: "mdy", or None (refuse it). Set for one import with :func:`numeric_dates`.
_NUMERIC_ORDER: ContextVar[str | None] = ContextVar("numeric_date_order", default=None)
DATE_ORDERS = ("dmy", "mdy")


@contextmanager
def numeric_dates(order: str | None) -> Iterator[None]:
    """Read 03/04/2023 as day-month-year (``"dmy"``) or month-day-year (``"mdy"``);
    ``None`` leaves the order as it is (refused, unless an outer call set one)."""
    if order is None:
        yield
        return
    if order not in DATE_ORDERS:
        raise ValueError(f"unknown date order {order!r}: use dmy or mdy")
    token = _NUMERIC_ORDER.set(order)
    try:
        yield
    finally:
        _NUMERIC_ORDER.reset(token)


_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_NUMERIC_DMY_OR_MDY = re.compile(
    r"^(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?!\d)(.*)$", re.DOTALL)
_EARLY, _LATE = datetime(2000, 1, 1), datetime(2001, 2, 2)  # see _exported_date


def _exported_date(raw: str) -> datetime:
    # dateutil (a well-kept parser of the formats exports use) fills what a text
    # leaves out from a default; parsing with two defaults tells what was missing.
    import warnings

    from dateutil import parser as dates
    from dateutil.parser import UnknownTimezoneWarning

    example = "write it as ISO 8601, e.g. 2024-03-01T09:15:00Z"
    text = _CJK_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} ", raw).strip()
    numeric = _NUMERIC_DMY_OR_MDY.match(text)
    if numeric:
        # Read strictly in the order given: dateutil's dayfirst is only a preference,
        # and would read 12/31/2023 in a day-first file as 31 December.
        order = _NUMERIC_ORDER.get()
        if order is None:
            raise FieldError(f"ambiguous date {raw!r}: day or month first? Say --date-order "
                             f"dmy or mdy, or {example}")
        first, _sep, second, year_text, rest = numeric.groups()
        day, month = (first, second) if order == "dmy" else (second, first)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        try:
            datetime(year, int(month), int(day))
        except ValueError:
            raise FieldError(f"not a date: {raw!r} (read as {order}; {example})") from None
        text = f"{year:04d}-{int(month):02d}-{int(day):02d}{rest}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownTimezoneWarning)
            early = dates.parse(text, default=_EARLY)
            late = dates.parse(text, default=_LATE)
    except UnknownTimezoneWarning:
        raise FieldError(f"unknown time zone in {raw!r}: give an offset such as +0100, "
                         f"or {example}") from None
    except (ValueError, OverflowError):
        raise FieldError(f"not a date: {raw!r} ({example})") from None
    if (early.year, early.month, early.day) != (late.year, late.month, late.day):
        raise FieldError(f"not a whole date: {raw!r} (it needs a year, a month and a day; "
                         f"{example})")
    return early


def amount_cents(cell: Cell | None) -> int:
    """A decimal amount (``12.5``, ``-3``, ``1,234.50``) as integer cents."""
    raw = text_of(cell).replace(" ", "")
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(f"not an amount: {raw!r} (e.g. 1234.50)") from None
    if not value.is_finite():
        raise FieldError(f"not an amount: {raw!r}")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise FieldError(f"more than 2 decimal places: {raw!r}")
    if abs(cents) >= 10**15:
        raise FieldError(f"amount too large: {raw!r}")
    return int(cents)


def currency(cell: Cell | None) -> str:
    value = text_of(cell).upper()
    if not _CURRENCY.match(value):
        raise FieldError(f"not a 3-letter currency code: {value!r} (e.g. USD, EUR)")
    return value


def language(cell: Cell | None) -> str:
    value = text_of(cell).lower()
    if len(value) > 16 or not _LANGUAGE.match(value):
        raise FieldError(f"not a language code: {value!r} (e.g. en, pt-br, zh)")
    return value


def tags(cell: Cell | None) -> list[str]:
    """Tags separated by commas and/or spaces (or a JSONL list), normalised."""
    if cell is None:
        return []
    parts = cell if isinstance(cell, list) else cell.replace(",", " ").split()
    cleaned = normalise_tags(safe_line(p) for p in parts)
    if len(" ".join(cleaned)) > 1000:
        raise FieldError("more than 1000 characters of tags")
    return cleaned


def items(cell: Cell | None) -> list[str]:
    """Order lines: a JSON list, a JSONL array, or text separated by ``;`` or ``|``."""
    if cell is None:
        return []
    if isinstance(cell, list):
        parts = cell
    else:
        raw = cell.strip()
        if raw.startswith("["):
            try:
                loaded = json.loads(raw)
            except ValueError:
                raise FieldError("starts with [ but is not a JSON list") from None
            if not isinstance(loaded, list):
                raise FieldError("not a JSON list")
            parts = [str(p) for p in loaded]
        else:
            parts = re.split(r"[;|\n]", raw)
    return [v for v in (safe_line(p).strip() for p in parts) if v]
