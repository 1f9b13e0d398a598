"""Reading an import file: column and value maps, CSV and JSONL, line numbers.

Files are streamed: rows come out one at a time with the physical line on
which each record starts (the header is line 1; a quoted CSV field that
spans lines counts every line it spans), so a message can send a person
straight to the right place in their editor.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from agent_tui.domain.errors import Invalid
from agent_tui.domain.safe_text import safe_line
from agent_tui.services.importing.columns import KindColumns
from agent_tui.services.importing.fields import Cell

FORMATS = ("csv", "jsonl")
# A cell may hold a whole e-mail thread; the validators enforce the real limits.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024
# What spreadsheets write instead of commas: ';' where the decimal mark is a comma,
# tabs from "copy as text", '|' from some ticketing exports.
_OTHER_DELIMITERS = (";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')


#: The text encoding of the file being imported; set for one import with
#: :func:`file_encoding`. UTF-8 (a byte-order mark is skipped) unless told.
_ENCODING: ContextVar[str] = ContextVar("import_encoding", default="utf-8-sig")


@contextmanager
def file_encoding(name: str | None) -> Iterator[None]:
    """Read the import's files as ``name`` (``gb18030``, ``cp1252``, ``utf-16``...)."""
    if name is None:
        yield
        return
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise Invalid("encoding", f"unknown text encoding {name!r} (e.g. utf-8, gb18030, "
                                  "cp1252, utf-16)") from None
    token = _ENCODING.set("utf-8-sig" if codec == "utf-8" else codec)
    try:
        yield
    finally:
        _ENCODING.reset(token)


def delimiter_of(header: str) -> str:
    """The delimiter of a CSV file, from its header line.

    A header with a comma outside quotes is comma-separated, as every file was
    before; otherwise the other delimiter it holds most, if any.
    """
    bare = _QUOTED.sub("", header)
    if "," in bare:
        return ","
    counts = {d: bare.count(d) for d in _OTHER_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def format_for(path: Path, fmt: str | None) -> str:
    """The explicit format, else the one the file name says."""
    if fmt:
        if fmt not in FORMATS:
            raise Invalid("format", f"unknown format {fmt!r}: use csv or jsonl")
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise Invalid("format", f"cannot tell the format of {path.name}: pass --format csv or jsonl")


@dataclass
class ColumnMap:
    """``--map`` rules: rename foreign columns, translate foreign values.

    ``SRC=DEST`` renames a column (``SRC=`` drops it quietly);
    ``COLUMN:VALUE=NEW`` replaces a value of a column (named after renaming),
    compared case-insensitively.
    """

    spec: KindColumns
    renames: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The rule each rename came from, to point at one that matched nothing.
    rules: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, rules: Sequence[str], spec: KindColumns) -> ColumnMap:
        cmap = cls(spec=spec)
        for rule in rules:
            left, sep, right = rule.partition("=")
            left, right = left.strip(), right.strip()
            if not sep or not left:
                raise Invalid("map", f"{rule!r}: use SRC=DEST or COLUMN:VALUE=NEW")
            column, colon, value = left.partition(":")
            if colon and column.strip() in spec.known:
                cmap.values.setdefault(column.strip(), {})[value.strip().casefold()] = right
                continue
            if right and right not in spec.known:
                raise Invalid("map", f"{rule!r}: {spec.kind} have no column {right!r} "
                                     f"(columns: {', '.join(spec.documented)})")
            cmap.renames[left.casefold()] = right
            cmap.rules[left.casefold()] = rule
        return cmap

    def column(self, header: str) -> str | None:
        """The column a header names: its rename, a known name in any case, or None."""
        key = header.strip().casefold()
        if key in self.renames:
            self.used.add(key)
            return self.renames[key]
        return key if key in self.spec.known else None

    def unused(self) -> list[str]:
        """Rename rules that matched no column (a typo, usually)."""
        return [rule for key, rule in self.rules.items() if key not in self.used]

    def value(self, column: str, cell: str) -> str:
        table = self.values.get(column)
        if table:
            return table.get(cell.strip().casefold(), cell)
        return cell


@dataclass
class RawRow:
    """One record as read: its line, its cells by column, and read problems."""

    line: int
    cells: dict[str, Cell]
    problems: list[tuple[str, str]] = field(default_factory=list)


class Reader:
    """Stream the rows of one file; use as a context manager."""

    def __init__(self, path: Path, fmt: str, cmap: ColumnMap) -> None:
        self.path = path
        self.fmt = fmt
        self.cmap = cmap
        #: Original names of columns nobody asked for, in order of appearance.
        self.unknown: dict[str, None] = {}
        #: Columns the CSV header provides (after renaming); None for JSONL.
        self.columns: list[str] | None = None
        stat = path.stat()
        self.bytes_total = stat.st_size
        self.fingerprint = (stat.st_size, stat.st_mtime_ns)
        self._binary = open(path, "rb")  # closed by close()
        self.encoding = _ENCODING.get()
        self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._text.close()

    @property
    def bytes_read(self) -> int:
        try:
            return min(self._binary.tell(), self.bytes_total)
        except (OSError, ValueError):
            return self.bytes_total

    def rows(self) -> Iterator[RawRow]:
        """Every non-blank record, in file order."""
        source = self._csv_rows() if self.fmt == "csv" else self._jsonl_rows()
        at = 1
        try:
            for row in source:
                at = row.line
                yield row
        except UnicodeDecodeError as exc:
            if self.encoding == "utf-8-sig":
                raise Invalid("file", f"after line {at}: not UTF-8 text ({exc.reason}); save "
                                      "the file as UTF-8, or say its encoding with --encoding "
                                      "(e.g. gb18030, cp1252, utf-16)") from None
            raise Invalid("file", f"after line {at}: not {self.encoding} text "
                                  f"({exc.reason}); check --encoding") from None

    # -- CSV ---------------------------------------------------------------

    def _header(self, names: list[str]) -> list[str | None]:
        dests: list[str | None] = []
        seen: dict[str, str] = {}
        for raw_name in names:
            dest = self.cmap.column(raw_name)
            name = safe_line(raw_name).strip()  # headers end up in messages on a terminal
            if dest is None:
                if name:
                    self.unknown.setdefault(name, None)
            elif dest:
                if dest in seen:
                    raise Invalid("file", f"line 1: columns {seen[dest]!r} and {name!r} both "
                                          f"mean {dest!r}; drop one with --map \"{name}=\"")
                seen[dest] = name
            dests.append(dest or None)
        spec = self.cmap.spec
        missing = [c for c in spec.required if c not in seen]
        if missing:
            what = "column" if len(missing) == 1 else "columns"
            shown = ", ".join(repr(safe_line(n)) for n in names)
            raise Invalid("file", f"line 1: no {what} {', '.join(map(repr, missing))} for "
                                  f"{spec.kind} (the file has {shown}); "
                                  f"rename one with --map \"COLUMN={missing[0]}\"")
        if spec.one_of and not any(c in seen for c in spec.one_of):
            raise Invalid("file", f"line 1: {spec.kind} need a column "
                                  f"{' or '.join(map(repr, spec.one_of))}")
        self.columns = [d for d in dests if d]
        return dests

    def _csv_rows(self) -> Iterator[RawRow]:
        csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
        first = self._text.readline()
        reader = csv.reader(itertools.chain([first], self._text), strict=True,
                            delimiter=delimiter_of(first))
        previous_end = 0
        try:
            header = next(reader, None)
            previous_end = reader.line_num
            if not header:
                raise Invalid("file", "the file is empty: the first line must name the columns")
            dests = self._header(header)
            width = len(dests)
            # (index, column, value map) for each column kept; most have no value map.
            plan = [(i, d, self.cmap.values.get(d)) for i, d in enumerate(dests) if d]
            # The common row (every column kept, no value maps, as many fields as
            # the header) becomes its dict in one C call.
            simple = len(plan) == width and not any(table for _i, _d, table in plan)
            names = [d for _i, d, _t in plan]
            for fields in reader:
                start, previous_end = previous_end + 1, reader.line_num
                first = fields[0] if fields else ""
                if (not first or first.isspace()) and not any(f.strip() for f in fields):
                    continue  # blank lines and rows of empty cells from spreadsheets
                if simple and len(fields) == width:
                    yield RawRow(line=start, cells=dict(zip(names, fields, strict=True)))
                    continue
                row = RawRow(line=start, cells={})
                if len(fields) > width and any(f.strip() for f in fields[width:]):
                    row.problems.append(("-", f"{len(fields)} fields but the header has {width}"))
                cells = row.cells
                short = len(fields) < width
                for index, dest, table in plan:
                    cell = fields[index] if not short or index < len(fields) else ""
                    if table:
                        cell = table.get(cell.strip().casefold(), cell)
                    cells[dest] = cell
                yield row
        except csv.Error as exc:
            raise Invalid("file", f"line {previous_end + 1}: {exc}") from None

    # -- JSONL -------------------------------------------------------------

    def _cell(self, column: str, value: Any) -> Cell:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return self.cmap.value(column, value)
        if isinstance(value, list):
            if any(isinstance(v, dict | list) for v in value):
                raise ValueError("expected a list of values, got nested objects")
            return [self.cmap.value(column, "" if v is None else str(v)) for v in value]
        raise ValueError("expected text, got a JSON object")

    def _jsonl_rows(self) -> Iterator[RawRow]:
        for number, text in enumerate(self._text, start=1):
            if not text.strip():
                continue
            row = RawRow(line=number, cells={})
            try:
                # Numbers stay text so that amounts keep every digit.
                obj = json.loads(text, parse_float=str, parse_int=str,
                                 parse_constant=_reject_constant)
            except ValueError as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                row.problems.append(("-", f"not valid JSON ({msg})"))
                yield row
                continue
            if not isinstance(obj, dict):
                row.problems.append(("-", "not a JSON object"))
                yield row
                continue
            for key, value in _flattened(obj, self.cmap.column):
                dest = self.cmap.column(key)
                if dest is None:
                    self.unknown.setdefault(safe_line(str(key)).strip(), None)
                    continue
                if not dest:
                    continue
                if dest in row.cells:
                    row.problems.append((dest, f"given twice (as {safe_line(str(key))!r} too)"))
                    continue
                try:
                    row.cells[dest] = self._cell(dest, value)
                except ValueError as exc:
                    row.problems.append((dest, str(exc)))
            yield row


def _flattened(obj: dict[str, Any], column: Callable[[str], str | None],
               prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The keys of a JSON object, nested objects' keys joined with dots.

    Exports from help desks nest: ``{"requester": {"email": ...}}`` is the
    column ``requester.email``, which ``--map requester.email=customer_email``
    can name. An object under a name that is itself a column stays whole (and
    is reported as not text); a list stays one value (tags, or objects that no
    column holds).
    """
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and column(name) is None:
            yield from _flattened(value, column, f"{name}.")
        else:
            yield name, value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a value")


def file_changed(path: Path, fingerprint: tuple[int, int]) -> bool:
    """True when ``path`` is no longer the file that was validated."""
    try:
        stat = os.stat(path)
    except OSError:
        return True
    return (stat.st_size, stat.st_mtime_ns) != fingerprint
