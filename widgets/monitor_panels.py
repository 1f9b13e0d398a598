"""The monitor's read-only panels: backlog, forecast and KPIs, with small charts.

Each panel is shown a ``MonitorSnapshot`` and renders plain ``Text`` (team
names and logins are ours, subjects never appear here) and ``Sparkline``s;
nothing in them is markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from agent_tui.backend import Kpis, MonitorSnapshot, Priority, Status
from widgets.relative_time import span

STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
PRIORITIES = tuple(reversed(Priority))  # urgent first


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _dur(value: float | None) -> str:
    return "—" if value is None else span(value)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


class LabelledSpark(Horizontal):
    """A label, a sparkline and the latest value on one line."""

    DEFAULT_CSS: ClassVar[str] = """
    LabelledSpark { height: 1; }
    LabelledSpark > .spark-label { width: 12; color: $text-muted; }
    LabelledSpark > Sparkline { width: 1fr; height: 1; }
    LabelledSpark > .spark-value { width: 9; text-align: right; }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(Text(self.label), classes="spark-label")
        yield Sparkline([], summary_function=max)
        yield Static("", classes="spark-value")

    def show(self, values: Sequence[float], latest: str) -> None:
        spark = self.query_one(Sparkline)
        # One point would fill the whole width: a chart needs two.
        data = list(values) if len(values) >= 2 else []
        if list(spark.data or []) != data:
            spark.data = data
        self.query_one(".spark-value", Static).update(Text(latest))


class BacklogPanel(Vertical):
    """Unsolved tickets by status × priority, by channel and team; the last hours as charts."""

    DEFAULT_CSS: ClassVar[str] = "BacklogPanel { height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("", id="backlog-matrix")
        yield Static("", id="backlog-split")
        yield LabelledSpark("Backlog", id="spark-backlog")
        yield LabelledSpark("Arrivals/h", id="spark-arrivals")
        yield LabelledSpark("Solved/h", id="spark-solved")

    def show(self, snap: MonitorSnapshot) -> None:
        matrix = Text(no_wrap=True)
        matrix.append(f"{'Backlog':<10}", style="bold")
        for prio in PRIORITIES:
            matrix.append(f"{prio.label:>8}", style="bold")
        matrix.append(f"{'total':>8}\n", style="bold")
        for status in STATUSES:
            row = snap.by_status_priority.get(status.value, {})
            matrix.append(f"{status.value:<10}")
            for prio in PRIORITIES:
                matrix.append(f"{row.get(prio.label, 0):>8,}")
            matrix.append(f"{sum(row.values()):>8,}\n")
        matrix.append(f"{'all':<10}", style="bold")
        for prio in PRIORITIES:
            matrix.append(f"{snap.backlog.by_priority.get(prio.label, 0):>8,}")
        matrix.append(f"{snap.backlog.total:>8,}", style="bold")
        self.query_one("#backlog-matrix", Static).update(matrix)
        split = Text(no_wrap=True, overflow="ellipsis")
        split.append("Channel ", style="bold")
        split.append("  ".join(f"{k} {v:,}" for k, v in snap.backlog.by_channel.items()) or "—")
        split.append("\nTeam    ", style="bold")
        split.append("  ".join(f"{k} {v:,}" for k, v in snap.backlog.by_team.items()) or "—")
        self.query_one("#backlog-split", Static).update(split)
        series = snap.series
        self.query_one("#spark-backlog", LabelledSpark).show(
            series.backlog, f"{series.backlog[-1]:,}" if series.backlog else "—")
        self.query_one("#spark-arrivals", LabelledSpark).show(
            series.arrivals, f"{series.arrivals[-1]:,}" if series.arrivals else "—")
        self.query_one("#spark-solved", LabelledSpark).show(
            series.solved, f"{series.solved[-1]:,}" if series.solved else "—")


class ForecastPanel(Static):
    """Breaches now and expected in the next 15/30/60 minutes, with the rates behind it."""

    def show(self, snap: MonitorSnapshot) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("SLA now  ", style="bold")
        risk = f"{snap.at_risk_total:,}" + ("" if snap.at_risk_exact else "+")
        text.append(f"breached {snap.backlog.past_due:,}   at risk {risk}\n")
        text.append("Forecast ", style="bold")
        fc = snap.forecast
        text.append("   ".join(f"{f.horizon_min}m: {f.expected:,}" for f in fc))
        text.append("   (due " + "/".join(f"{f.due:,}" for f in fc) + " · new +"
                    + "/+".join(f"{f.from_arrivals:,}" for f in fc) + ")", style="dim")
        text.append(f"\n         arrivals {snap.arrivals_per_hour:.0f}/h   "
                    f"handled {snap.handled_per_hour:.0f}/h (last hour)")
        first = fc[-1].ticket_ids[:4] if fc else []
        if first:
            text.append("   late first: " + " ".join(f"#{t}" for t in first), style="bold")
        self.update(text)


#: (label, how to show it, the figure) of each KPI row.
KPI_ROWS: tuple[tuple[str, Callable[[Kpis], str]], ...] = (
    ("First response (median)", lambda k: _dur(k.first_response.median_s)),
    ("Handle time (mean)", lambda k: _dur(k.handle_time_mean_s)),
    ("First-contact resolution", lambda k: _pct(k.fcr)),
    ("Resolution rate", lambda k: _pct(k.resolution_rate)),
    ("CSAT", lambda k: _pct(k.csat)),
    ("NPS", lambda k: _num(k.nps)),
    ("Self-service", lambda k: _pct(k.self_service_rate)),
    ("Human intervention", lambda k: _pct(k.human_intervention_rate)),
    ("SLA compliance", lambda k: _pct(k.sla_compliance)),
    ("Created / solved", lambda k: f"{k.created:,} / {k.solved:,}"),
)


class KpiPanel(Vertical):
    """KPIs today and over the chosen window; per-day charts of the ones people watch."""

    DEFAULT_CSS: ClassVar[str] = "KpiPanel { height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("", id="kpi-table")
        yield LabelledSpark("CSAT/day", id="spark-csat")
        yield LabelledSpark("1st resp/day", id="spark-frt")
        yield LabelledSpark("SLA ok/day", id="spark-sla")

    def show(self, snap: MonitorSnapshot) -> None:
        text = Text(no_wrap=True)
        text.append(f"{'KPI':<26}{'today':>10}{snap.window:>10}\n", style="bold")
        for label, fmt in KPI_ROWS:
            text.append(f"{label:<26}{fmt(snap.today):>10}{fmt(snap.window_kpis):>10}\n")
        text.rstrip()
        self.query_one("#kpi-table", Static).update(text)
        days = [d.kpis for d in snap.window_days]
        self.query_one("#spark-csat", LabelledSpark).show(
            [(k.csat or 0) * 100 for k in days], _pct(snap.window_kpis.csat))
        self.query_one("#spark-frt", LabelledSpark).show(
            [k.first_response.median_s or 0 for k in days],
            _dur(snap.window_kpis.first_response.median_s))
        self.query_one("#spark-sla", LabelledSpark).show(
            [(k.sla_compliance or 0) * 100 for k in days], _pct(snap.window_kpis.sla_compliance))
