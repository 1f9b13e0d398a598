"""The customer 360: who this is, every way they reach us, what they bought, how it went."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from agent_tui.backend import Channel, Customer360, Status
from widgets.laid_out import LaidOut
from widgets.relative_time import ago

#: How many earlier tickets and orders the panel lists before "… and N more".
SHOWN = 8
OPEN_STYLE = "bold"


def money(cents: int, currency: str | None) -> str:
    """``1234`` cents as ``12.34 EUR``; no currency when orders mix them."""
    amount = f"{cents / 100:,.2f}"
    return f"{amount} {currency}" if currency else amount


def render_360(data: Customer360, *, now: datetime | None = None,
               current_ticket: int | None = None) -> Text:
    """The whole 360 as one ``Text``. Every string from the store is appended as text."""
    now = now or datetime.now(UTC)
    c = data.customer
    out = Text()
    out.append(c.name or "(no name)", style="bold")
    if c.tier and c.tier != "standard":
        out.append(f"  {c.tier.upper()}", style="bold reverse")
    out.append("\n")
    facts = [f"customer #{c.id}", f"since {c.created_at:%Y-%m-%d}"]
    if c.organization:
        facts.insert(1, c.organization)
    if c.language:
        facts.append(f"language {c.language}")
    out.append("  ".join(facts), style="dim")
    out.append("\n")
    if data.last_contact_at is not None:
        earlier = [t for t in data.tickets if t.id != current_ticket]
        last = earlier[0] if earlier else None
        if last is not None:
            out.append(f"Last contact {ago(last.created_at, now)} (#{last.id} via "
                       f"{last.channel.value})")
        else:
            out.append("First contact")
        out.append("\n")
    if data.repeat_contact:
        out.append("REPEAT CONTACT", style="bold reverse")
        out.append(" — more than one ticket in the last 7 days\n")
    out.append(f"Open tickets {data.open_tickets}   Lifetime value "
               f"{money(data.lifetime_value_cents, data.currency)}")
    if data.average_csat is not None:
        out.append(f"   CSAT {data.average_csat:.1f}/5")
    out.append("\n")

    out.append("\nIdentities", style="bold underline")
    if data.masked:
        out.append("  (masked — v to reveal, with a reason)", style="dim")
    out.append("\n")
    by_channel: dict[Channel, list[str]] = {}
    for identity in data.identities:
        by_channel.setdefault(identity.channel, []).append(
            identity.address + (" ✓" if identity.verified else ""))
    for channel, addresses in by_channel.items():
        out.append(f"  {channel.value:<7}", style="dim")
        out.append(", ".join(addresses))
        out.append("\n")
    if not data.identities:
        out.append("  none\n", style="dim")

    out.append("\nOrders", style="bold underline")
    out.append(f"  {len(data.orders)}\n", style="dim")
    for order in data.orders[:SHOWN]:
        out.append(f"  {order.number}", style="bold")
        out.append(f"  {order.status}  {money(order.amount_cents, order.currency)}  "
                   f"{order.created_at:%Y-%m-%d}\n")
        if order.items:
            out.append(f"    {', '.join(order.items)}\n", style="dim")
    if len(data.orders) > SHOWN:
        out.append(f"  … and {len(data.orders) - SHOWN} more\n", style="dim")

    out.append("\nTickets", style="bold underline")
    out.append(f"  {len(data.tickets)}\n", style="dim")
    for ticket in data.tickets[:SHOWN]:
        marker = "▶ " if ticket.id == current_ticket else "  "
        style = OPEN_STYLE if ticket.status.is_open else "dim"
        out.append(f"{marker}#{ticket.id} ", style=style)
        out.append(f"{ticket.channel.value:<6} {_status(ticket.status):<8} ", style=style)
        out.append(ticket.subject, style=style)
        out.append(f"  {ago(ticket.created_at, now)}\n", style="dim")
    if len(data.tickets) > SHOWN:
        out.append(f"  … and {len(data.tickets) - SHOWN} more\n", style="dim")

    out.append("\nSatisfaction", style="bold underline")
    out.append("\n")
    for rating in data.ratings[:SHOWN]:
        parts = []
        if rating.csat is not None:
            parts.append(f"CSAT {rating.csat}/5")
        if rating.nps is not None:
            parts.append(f"NPS {rating.nps}/10")
        out.append(f"  #{rating.ticket_id} {'  '.join(parts)}  {rating.created_at:%Y-%m-%d}")
        if rating.comment:
            out.append("  “")
            out.append(rating.comment, style="italic")
            out.append("”")
        out.append("\n")
    if not data.ratings:
        out.append("  no ratings yet\n", style="dim")
    return out


def _status(status: Status) -> str:
    return status.value.replace("_", " ")


class Card(LaidOut, Static):
    """The 360's text: as tall as its content, sized by the panel's layout."""


class CustomerPanel(LaidOut, VerticalScroll):
    """A customer 360 beside the thread (or filling a screen)."""

    DEFAULT_CSS: ClassVar[str] = """
    CustomerPanel {
        padding: 0 1;
        border-left: solid $primary;
    }
    CustomerPanel > Static { width: 100%; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.data: Customer360 | None = None

    def compose(self) -> ComposeResult:
        yield Card(Text("Loading the customer…", style="dim"), id="customer-360")

    def show(self, data: Customer360, *, current_ticket: int | None = None,
             now: datetime | None = None) -> None:
        """Render ``data``; keeps the scroll position when the same customer reloads."""
        self.data = data
        self.query_one("#customer-360", Static).update(
            render_360(data, now=now, current_ticket=current_ticket))

    def show_error(self, text: str) -> None:
        self.query_one("#customer-360", Static).update(Text(text, style="dim"))
