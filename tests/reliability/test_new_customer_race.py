"""Two agents opening tickets for the same new customer at the same moment.

On SQLite writers queue on BEGIN IMMEDIATE, so the second one finds the
customer the first created. On PostgreSQL both transactions used to look the
customer up, miss, insert, and the second died on the identity's unique
index with a raw ``IntegrityError``; ``find_or_create`` now takes an advisory
lock on the address first. Both must end with one customer and two tickets.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from agent_tui.domain.tables import Customer
from agent_tui.domain.views import TicketCreate
from agent_tui.services import tickets
from agent_tui.store import Store
from tests.conftest import ADMIN, migrated, seed_world

pytestmark = pytest.mark.slow

ROUNDS = 10


def _race(store: Store, email: str) -> list[BaseException]:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            store.run_write(lambda s: tickets.create(s, ADMIN, TicketCreate(
                subject="where is my parcel", body="hello", customer_email=email)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _check(store: Store) -> None:
    for i in range(ROUNDS):
        email = f"new{i}@example.org"
        errors = _race(store, email)
        if errors:
            raise errors[0]
        with store.read() as s:
            n = s.exec(select(sa.func.count()).select_from(Customer)
                       .where(col(Customer.email) == email)).one()
        assert n == 1, f"{email}: {n} customers"


def _run(url: str) -> None:
    store = migrated(url)
    try:
        seed_world(store)
        _check(store)
    finally:
        store.dispose()


def test_same_new_customer_on_sqlite(sqlite_url: str) -> None:
    _run(sqlite_url)


@pytest.mark.pg
def test_same_new_customer_on_postgresql(pg_url: str) -> None:
    _run(pg_url)
