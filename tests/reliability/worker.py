"""Worker processes for the reliability tests.

Run as ``python -m tests.reliability.worker MODE CONFIG_JSON``: the worker
opens the store, prints ``ready``, waits for one line on stdin (so that every
worker starts at the same moment, whatever its import time), works for
``config["seconds"]``, then prints one JSON line of results.

Workers touch the store only through the paths the product uses:
``open_store`` plus ``LocalBackend`` or the services inside ``store.read()``
/ ``store.run_write``. Expected outcomes (a ``Conflict``) are counted; any
other exception is recorded in ``errors`` and the loop carries on, so the
test sees every one of them.

``crash_writer`` is not a mode: the crash test runs it in children forked
by ``tests.reliability.crash_server``, which imported this module once.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from agent_tui.domain.enums import OPEN_STATUSES, Priority, Sort, Source, Status, View
from agent_tui.domain.errors import Conflict
from agent_tui.domain.tables import Event
from agent_tui.domain.views import TicketCreate, TicketDetail, TicketRow, TicketUpdate
from agent_tui.local import LocalBackend
from agent_tui.services import agents, tickets
from agent_tui.services import queue as queue_svc
from agent_tui.store import Store, open_store

TEAMS = ("billing", "tech", "logistics")
#: Statuses a writer moves tickets between: each is reachable from every open status.
WORK_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)
#: Ticket events that each bump the ticket's version by one (created sets it to 1).
BUMPING_KINDS = ("ticket.created", "ticket.replied", "ticket.noted", "ticket.updated",
                 "ticket.assigned")


def _error(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1:]
    at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _capped(errors: list[str], keep: int = 50) -> list[str]:
    """The first errors, and how many more there were: a result line stays small."""
    if len(errors) <= keep:
        return errors
    return [*errors[:keep], f"... and {len(errors) - keep} more errors"]


# ---------------------------------------------------------------- lost updates


async def updater(store: Store, cfg: dict[str, Any]) -> dict[str, Any]:
    """Read ticket #N and save a change on top of the version seen, again and again."""
    backend = LocalBackend(store, cfg["login"])
    ticket_id = int(cfg["ticket_id"])
    saves: list[list[int]] = []  # [seen version, saved version]
    conflicts: list[dict[str, Any]] = []
    errors: list[str] = []
    deadline = time.monotonic() + float(cfg["seconds"])
    i = 0
    while time.monotonic() < deadline:
        i += 1
        try:
            seen = await backend.get_ticket(ticket_id)
        except Exception as exc:  # every unexpected error is a finding
            errors.append(_error(exc))
            continue
        try:
            # Unique per worker and attempt, so it always differs from what is stored.
            saved = await backend.update_ticket(
                ticket_id, TicketUpdate(subject=f"{cfg['login']}-{i}"),
                expected_version=seen.version)
            saves.append([seen.version, saved.version])
        except Conflict as exc:
            conflicts.append({"seen": seen.version, "current": exc.current_version,
                              "changed_by": exc.changed_by})
        except Exception as exc:
            errors.append(_error(exc))
    return {"login": cfg["login"], "saves": saves, "conflicts": conflicts,
            "errors": _capped(errors)}


# ---------------------------------------------------------------- contention


async def writer(store: Store, cfg: dict[str, Any]) -> dict[str, Any]:
    """Create, reply, note, update and assign tickets as one agent would, fast."""
    login = cfg["login"]
    backend = LocalBackend(store, login)
    supervisor = backend.actor.role.rank >= 2
    rng = random.Random(cfg["seed"])
    ops: Counter[str] = Counter()
    errors: list[str] = []
    max_id = int(cfg.get("max_id", 0))
    deadline = time.monotonic() + float(cfg["seconds"])
    n = 0
    while time.monotonic() < deadline:
        n += 1
        op = rng.choices(("create", "reply", "note", "update", "assign"), (3, 3, 2, 3, 1))[0]
        if max_id == 0:
            op = "create"
        try:
            if op == "create":
                t = await backend.create_ticket(TicketCreate(
                    subject=f"{login} ticket {n} [/]", body=f"Body {n}\x1b]52;c;x\x07 from {login}",
                    customer_email=f"cust{rng.randrange(40)}@example.org",
                    team=rng.choice(TEAMS), priority=rng.choice(list(Priority)),
                    tags=[f"t{rng.randrange(5)}"]))
                max_id = max(max_id, t.id)
            else:
                tid = rng.randint(1, max_id)
                seen = await backend.get_ticket(tid)
                v = seen.version
                if op == "reply":
                    await backend.reply(tid, f"reply {n} by {login}", expected_version=v)
                elif op == "note":
                    await backend.note(tid, f"note {n} by {login}", expected_version=v)
                elif op == "update":
                    await backend.update_ticket(tid, TicketUpdate(
                        priority=rng.choice(list(Priority)), status=rng.choice(WORK_STATUSES)),
                        expected_version=v)
                elif supervisor:
                    who = rng.choice([*cfg["logins"], None])
                    await backend.assign(tid, who, expected_version=v)
                elif seen.assignee in (None, login):
                    await backend.assign(tid, None if seen.assignee else login,
                                         expected_version=v)
                else:
                    op = "skip"
            ops[op] += 1
        except Conflict:
            ops["conflict"] += 1
        except Exception as exc:
            errors.append(_error(exc))
    return {"login": login, "ops": dict(ops), "errors": _capped(errors), "max_id": max_id}


def _order_key(sort: Sort, row: TicketRow) -> tuple[Any, ...]:
    if sort is Sort.PRIORITY:
        return (-int(row.priority), row.created_at, row.id)
    if sort is Sort.AGE:
        return (row.created_at, row.id)
    return (-row.updated_at.timestamp(), -row.id)


def check_rows(rows: list[TicketRow], sort: Sort, where: str) -> list[str]:
    """What is wrong with a list of open-queue rows (empty when nothing is)."""
    bad = []
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        bad.append(f"{where}: duplicate ids {sorted(i for i in ids if ids.count(i) > 1)[:5]}")
    keys = [_order_key(sort, r) for r in rows]
    if keys != sorted(keys):
        bad.append(f"{where}: rows out of {sort.value} order")
    closed = [r.id for r in rows if r.status not in OPEN_STATUSES]
    if closed:
        bad.append(f"{where}: solved/closed tickets {closed[:5]} in the open queue")
    return bad


def check_detail(d: TicketDetail, where: str) -> list[str]:
    bad = []
    msg_ids = [m.id for m in d.messages]
    if not msg_ids or msg_ids != sorted(msg_ids):
        bad.append(f"{where}: #{d.id} thread empty or out of order")
    if d.version < len(msg_ids):  # each message after the first bumped the version once
        bad.append(f"{where}: #{d.id} version {d.version} < {len(msg_ids)} messages")
    if "\x1b" in d.subject or any("\x1b" in m.body for m in d.messages):
        bad.append(f"{where}: #{d.id} shows an escape sequence")
    return bad


def _walk(store: Store, login: str, sort: Sort) -> list[str]:
    """The whole open queue, page by page, inside one read snapshot."""
    with store.read() as s:
        actor = agents.actor_for(s, login, Source.TUI)
        total = queue_svc.count(s, actor, View.ALL_OPEN)
        rows: list[TicketRow] = []
        cursor: str | None = None
        while True:
            page = queue_svc.list_tickets(s, actor, View.ALL_OPEN, sort=sort, after=cursor,
                                          limit=100)
            rows += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    bad = check_rows(rows, sort, f"walk by {sort.value}")
    if len(rows) != total:
        bad.append(f"walk by {sort.value}: {len(rows)} rows but count says {total}")
    return bad


def _snapshot_detail(store: Store, login: str, ticket_id: int) -> list[str]:
    """In one snapshot, a ticket's version equals the number of its events."""
    with store.read() as s:
        actor = agents.actor_for(s, login, Source.TUI)
        d = tickets.detail(s, actor, ticket_id)
        n_events = s.exec(select(sa.func.count()).select_from(Event).where(
            col(Event.entity) == "ticket", col(Event.entity_id) == ticket_id,
            col(Event.kind).in_(BUMPING_KINDS))).one()
    bad = check_detail(d, "snapshot detail")
    if n_events != d.version:
        bad.append(f"snapshot detail: #{ticket_id} version {d.version} but {n_events} events")
    return bad


async def reader(store: Store, cfg: dict[str, Any]) -> dict[str, Any]:
    """Queue pages, counts and ticket details, checked for consistency."""
    login = cfg["login"]
    backend = LocalBackend(store, login)
    rng = random.Random(cfg["seed"])
    ops: Counter[str] = Counter()
    violations: list[str] = []
    errors: list[str] = []
    deadline = time.monotonic() + float(cfg["seconds"])
    while time.monotonic() < deadline:
        sort = rng.choice(list(Sort))
        try:
            page = await backend.list_tickets(View.ALL_OPEN, sort=sort, limit=50)
            violations += check_rows(page.items, sort, f"page by {sort.value}")
            if len(page.items) < 50 and page.next_cursor is not None:
                violations.append("a short page has a next cursor")
            if await backend.count(View.ALL_OPEN) < 0:
                violations.append("negative count")
            for row in rng.sample(page.items, min(3, len(page.items))):
                violations += check_detail(await backend.get_ticket(row.id), "detail")
            ops["page"] += 1
            if page.items:
                violations += _snapshot_detail(store, login, rng.choice(page.items).id)
                ops["snapshot"] += 1
            if ops["page"] % 5 == 0:
                violations += _walk(store, login, sort)
                ops["walk"] += 1
        except Exception as exc:
            errors.append(_error(exc))
    return {"login": login, "ops": dict(ops), "violations": violations[:50],
            "errors": _capped(errors)}


# ---------------------------------------------------------------- crash safety


def crash_writer(url: str, login: str, ack: Callable[[str], None]) -> None:
    """Create tickets and replies until killed; ack each one only after it committed."""
    store = open_store(url)
    with store.read() as s:
        actor = agents.actor_for(s, login, Source.TUI)
    n = 0
    while True:
        n += 1
        data = TicketCreate(subject=f"crash {n}", body=f"body {n}",
                            customer_email=f"crash{n % 7}@example.org", team="tech")
        t = store.run_write(partial(tickets.create, actor=actor, data=data))
        ack(f"t {t.id} {t.version}")
        if n % 2 == 0:
            r = store.run_write(partial(tickets.reply, actor=actor, ticket_id=t.id,
                                        body="on it"))
            ack(f"r {r.id} {r.version}")


# ---------------------------------------------------------------- entry point

MODES = {"updater": updater, "writer": writer, "reader": reader}


def main() -> None:
    mode, cfg = sys.argv[1], json.loads(sys.argv[2])
    store = open_store(cfg["url"])
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        result = asyncio.run(MODES[mode](store, cfg))
    finally:
        store.dispose()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
