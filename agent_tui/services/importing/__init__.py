"""Importing customers, tickets, orders and knowledge-base articles from CSV or JSONL.

Columns (``*`` = required and non-empty; the first line of a CSV names them,
in any order and any letter case; a JSONL line is one object)::

    tickets:   external_id*, subject*, body*, status, priority, channel,
               customer_email, customer_name, customer_phone, team, assignee,
               tags, created_at, category, product
               (customer_email or customer_phone is required)
    customers: external_id, name, email, phone, organization, tier, language,
               created_at   (one of external_id, email or phone is required)
    orders:    external_id*, customer_email*, number*, status, amount,
               currency, items, created_at
    kb:        external_id*, title*, body*, tags, locale, status, created_at

An ``id`` column (written by the exporter for people to read) is ignored.

Values
    status: new, open, pending, on_hold, solved, closed; priority: low,
    normal, high, urgent (or 1-4); channel: email, chat, phone, web, app,
    social; all case-insensitive. team: a team name; assignee: an agent's
    login, e-mail or (unique) full name. tags: separated by commas or spaces.
    created_at: ISO 8601 (``2024-03-01T09:15:00Z``; without a zone it is
    UTC). amount: a decimal (``1234.50``), stored as cents. tier: standard,
    gold, vip; kb status: draft, published, archived. items: a JSON list or
    text separated by ``;``. Customer text passes ``safe_text``/``safe_line``;
    subjects longer than 500 characters are cut to 500, as the app does.

Foreign exports (``--map``)
    ``"Ticket Subject=subject"`` renames a column (``"Satisfaction="`` drops
    one); ``"priority:Critical=urgent"`` replaces a value of a column (named
    after renaming), case-insensitively. Unknown columns are reported once.

All or nothing
    Every row is validated first (with the file's line numbers: a quoted CSV
    cell spanning lines counts them all). Any bad row and nothing is written;
    with ``skip_bad`` the good rows are imported and the bad ones reported.
    A dry run validates and counts and writes nothing, not even events.

Idempotent
    Rows are matched by ``external_id`` (customers without one by e-mail,
    then phone) and updated in place when they differ, so importing a file
    twice creates nothing the second time. Tickets without an external id
    are refused. An empty cell keeps the stored value, except for the fields
    where empty is a value of its own (team, assignee, category, product,
    tags, organization, language, items), which it clears. The exporter
    writes ``agent-tui:<id>`` for rows without an external id; such a value
    refers back to row ``<id>`` of this store when that row still has no
    external id and the same ``created_at``, so an export re-imports as
    "unchanged"; into another store it creates rows with that external id.

Effects
    A ticket's customer is found by e-mail (then phone) like
    ``customers.find_or_create`` and created when unknown; its ``body``
    becomes the first customer message; tags also go to ``ticket_tag``;
    status sets ``is_open``; ``created_at`` sets the created and updated
    times. Every created or updated row gets its event (``ticket.imported``,
    ``customer.imported``, ``order.imported``, ``kb.imported``, or
    ``*.updated`` with before/after) in the import's transaction, and one
    ``import.completed`` event sums the run up.
"""

from agent_tui.services.importing import worker
from agent_tui.services.importing.columns import COLUMNS, IMPORT_KINDS, describe_columns
from agent_tui.services.importing.records import RowError
from agent_tui.services.importing.runner import MAX_LISTED, ImportReport, Progress, import_file
from agent_tui.services.importing.source import FORMATS

__all__ = [
    "COLUMNS",
    "FORMATS",
    "IMPORT_KINDS",
    "MAX_LISTED",
    "ImportReport",
    "Progress",
    "RowError",
    "describe_columns",
    "import_file",
    "worker",
]
