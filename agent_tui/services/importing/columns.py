"""The documented columns of each import kind (and of the matching export).

The same table feeds the command help, the module docstring and the
validation, so the three cannot disagree.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

#: The prefix the exporter writes when a row has no external id of its own:
#: ``agent-tui:<id>``. On import it refers back to row ``<id>`` of this store
#: (see :mod:`agent_tui.services.importing`).
OWN_ID_PREFIX = "agent-tui:"


@dataclass(frozen=True)
class KindColumns:
    """The columns one import kind understands."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    #: Columns accepted and ignored: the exporter writes ``id`` for people to read.
    ignored: tuple[str, ...] = ("id",)
    #: At least one of these columns must be present and non-empty.
    one_of: tuple[str, ...] = ()

    @property
    def documented(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.required + self.optional + self.ignored)


TICKETS = KindColumns(
    kind="tickets",
    required=("external_id", "subject", "body"),
    optional=("status", "priority", "channel", "customer_email", "customer_name",
              "customer_phone", "team", "assignee", "tags", "created_at", "category", "product"),
    one_of=("customer_email", "customer_phone"),
)
CUSTOMERS = KindColumns(
    kind="customers",
    required=(),
    optional=("external_id", "name", "email", "phone", "organization", "tier", "language",
              "created_at"),
    one_of=("external_id", "email", "phone"),
)
ORDERS = KindColumns(
    kind="orders",
    required=("external_id", "customer_email", "number"),
    optional=("status", "amount", "currency", "items", "created_at"),
)
KB = KindColumns(
    kind="kb",
    required=("external_id", "title", "body"),
    optional=("tags", "locale", "status", "created_at"),
)

COLUMNS: dict[str, KindColumns] = {c.kind: c for c in (TICKETS, CUSTOMERS, ORDERS, KB)}
IMPORT_KINDS: tuple[str, ...] = tuple(COLUMNS)

#: Closed vocabularies that are not enums of the domain.
CUSTOMER_TIERS = ("standard", "gold", "vip")
KB_STATUSES = ("draft", "published", "archived")


def describe_columns() -> str:
    """Plain-text listing of every kind's columns, for help texts."""
    lines = []
    for spec in COLUMNS.values():
        cols = [f"{c}*" for c in spec.required] + list(spec.optional)
        note = f" (one of {', '.join(spec.one_of)} is required)" if spec.one_of else ""
        lines.append(textwrap.fill(f"{spec.kind}: {', '.join(cols)}{note}", width=76,
                                   subsequent_indent="    ", break_on_hyphens=False))
    lines.append("* = required and non-empty")
    return "\n".join(lines)
