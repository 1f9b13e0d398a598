"""Counters kept in step with ticket facts: ``metric_day``, ``metric_hist``, ``metric_backlog``.

Every fact write computes what the old fact row contributed to the counters
and what the new one contributes, and applies the difference in the same
transaction (:func:`apply`), so the counters always equal a sum over the
current facts — which the tests check against a full recomputation.
Durations are log-scale histograms with ``STEPS`` buckets per doubling:
a percentile read from them is within ±4.5 % of the exact value (and
exact for durations under ~20 s). Keys are applied in sorted order so two
PostgreSQL transactions never wait on each other's rows in a cycle.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from agent_tui.domain.enums import OPEN_STATUSES
from agent_tui.domain.tables import MetricBacklog, MetricDay, MetricHist
from agent_tui.domain.tables.loop import DAY_COUNTERS, HIST_BLOCK

DAY_S = 86_400
STEPS = 8
D = MetricDay.__table__  # type: ignore[attr-defined]
B = MetricBacklog.__table__  # type: ignore[attr-defined]
H = MetricHist.__table__  # type: ignore[attr-defined]
_IDX = {name: i for i, name in enumerate(DAY_COUNTERS)}
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_CHUNK = 400
_UPDATE = sa.update(D).where(
    D.c.day == sa.bindparam("k_day"), D.c.channel == sa.bindparam("k_channel"),
    D.c.team_id == sa.bindparam("k_team_id"), D.c.agent_id == sa.bindparam("k_agent_id"),
).values({name: sa.bindparam(f"v_{name}") for name in (*DAY_COUNTERS, "frt_hist", "res_hist")})
DayKey = tuple[int, str, int, int]  # day, channel, team_id (0 none), agent_id (0 none)
BacklogKey = tuple[str, int, str, int]  # status, priority, channel, team_id (0 none)
HistKey = tuple[str, int, int, str, str, int]  # dim, span, day, key, kind, bucket


def bucket(seconds: int) -> int:
    """The histogram bucket of a duration: ``STEPS`` buckets per doubling of seconds+1."""
    return int(STEPS * math.log2(seconds + 1)) if seconds > 0 else 0


def bucket_value(b: int) -> float:
    """The duration a bucket stands for: the middle of the whole seconds it holds."""
    lo = math.ceil(2 ** (b / STEPS) - 1)
    hi = math.ceil(2 ** ((b + 1) / STEPS) - 1) - 1  # last whole second in the bucket
    hi = max(lo, hi)
    return (lo + hi) / 2


def hist_stats(hist: Mapping[int, int]) -> tuple[int, float | None, float | None]:
    """(count, median, nearest-rank p90) of a histogram, as for exact values."""
    n = sum(hist.values())
    if n <= 0:
        return 0, None, None
    ordered = sorted((b, c) for b, c in hist.items() if c > 0)

    def rank(k: int) -> float:  # the k-th smallest (1-based)
        seen = 0
        for b, c in ordered:
            seen += c
            if seen >= k:
                return bucket_value(b)
        return bucket_value(ordered[-1][0])

    median = rank((n + 1) // 2) if n % 2 else (rank(n // 2) + rank(n // 2 + 1)) / 2
    return n, median, rank(math.ceil(0.9 * n))


@dataclass
class Delta:
    """Changes to the counters, to be applied with :func:`apply`."""

    days: dict[DayKey, list[int]] = field(default_factory=dict)
    frt: dict[DayKey, Counter[int]] = field(default_factory=dict)
    res: dict[DayKey, Counter[int]] = field(default_factory=dict)
    backlog: Counter[BacklogKey] = field(default_factory=Counter)

    def _day(self, key: DayKey) -> list[int]:
        row = self.days.get(key)
        if row is None:
            row = self.days[key] = [0] * len(DAY_COUNTERS)
        return row

    def add(self, fact: Mapping[str, Any], sign: int) -> None:
        """Add (``sign`` 1) or take away (−1) one fact's contribution."""
        ch, team, agent = fact["channel"], fact["team_id"] or 0, fact["agent_id"] or 0
        ckey = (fact["created_s"] // DAY_S, ch, team, agent)
        row = self._day(ckey)
        solved_s, fr = fact["solved_s"], fact["first_response_s"]
        for name, value in (("created_n", 1), ("resolved_n", solved_s is not None),
                            ("nr_total", fact["next_response_total_s"]),
                            ("nr_n", fact["next_responses"]), ("bot_touched", fact["bot_touched"]),
                            ("handoff", fact["handoff"])):
            row[_IDX[name]] += sign * int(value)
        if fr is not None:
            self.frt.setdefault(ckey, Counter())[bucket(fr)] += sign
        if solved_s is not None:
            skey = (solved_s // DAY_S, ch, team, agent)
            row = self._day(skey)
            replied = fact["agent_replies"] > 0
            met = fact["sla_met"]
            for name, value in (
                    ("solved_n", 1), ("fcr", fact["agent_replies"] == 1 and fact["reopens"] == 0),
                    ("fcr_base", replied), ("handle", fact["handle_s"] if replied else 0),
                    ("bot_resolved", fact["bot_resolved"]), ("sla_n", met is not None),
                    ("sla_ok", met == 1), ("reopened", fact["reopens"] > 0)):
                row[_IDX[name]] += sign * int(value)
            self.res.setdefault(skey, Counter())[bucket(fact["resolution_s"])] += sign
        if fact["rated_s"] is not None:
            row = self._day((fact["rated_s"] // DAY_S, ch, team, agent))
            csat, nps = fact["csat"], fact["nps"]
            for name, value in (("csat_n", csat is not None),
                                ("csat_good", csat is not None and csat >= 4),
                                ("nps_n", nps is not None),
                                ("promoters", nps is not None and nps >= 9),
                                ("detractors", nps is not None and nps <= 6)):
                row[_IDX[name]] += sign * int(value)
        if fact["status"] in _OPEN:
            self.backlog[(fact["status"], fact["priority"], ch, team)] += sign


def delta_for(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> Delta:
    delta = Delta()
    for fact in old:
        delta.add(fact, -1)
    for fact in new:
        delta.add(fact, 1)
    return delta


def _insert(session: Session, table: sa.Table) -> Any:
    return (sqlite.insert(table) if session.get_bind().dialect.name == "sqlite"
            else postgresql.insert(table))


def _merge(text: str, change: Counter[int] | None) -> str:
    if not change:
        return text
    hist = {int(k): v for k, v in json.loads(text).items()}
    for b, c in change.items():
        hist[b] = hist.get(b, 0) + c
    return json.dumps({str(b): c for b, c in sorted(hist.items()) if c}, separators=(",", ":"))


def apply(session: Session, delta: Delta) -> None:
    """Add ``delta`` to the stored counters (rows are created on first use).

    A handful of statements per call whatever the number of keys: insert
    the missing rows, read and lock them all, write them all back.
    """
    keys = sorted(k for k in set(delta.days) | set(delta.frt) | set(delta.res)
                  if any(delta.days.get(k, ())) or any((delta.frt.get(k) or {}).values())
                  or any((delta.res.get(k) or {}).values()))
    zero = dict.fromkeys(DAY_COUNTERS, 0)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        session.execute(_insert(session, D).on_conflict_do_nothing(), [
            {"day": k[0], "channel": k[1], "team_id": k[2], "agent_id": k[3], **zero,
             "frt_hist": "{}", "res_hist": "{}"} for k in chunk])
        key_cols = sa.tuple_(D.c.day, D.c.channel, D.c.team_id, D.c.agent_id)
        rows = session.execute(sa.select(D).where(key_cols.in_(chunk))
                               .order_by(D.c.day, D.c.channel, D.c.team_id, D.c.agent_id)
                               .with_for_update()).all()
        updates = []
        for row in rows:
            m = row._mapping
            key = (m["day"], m["channel"], m["team_id"], m["agent_id"])
            counts = delta.days.get(key, [0] * len(DAY_COUNTERS))
            values = {f"v_{name}": m[name] + counts[i] for i, name in enumerate(DAY_COUNTERS)}
            values["v_frt_hist"] = _merge(m["frt_hist"], delta.frt.get(key))
            values["v_res_hist"] = _merge(m["res_hist"], delta.res.get(key))
            values.update(k_day=key[0], k_channel=key[1], k_team_id=key[2], k_agent_id=key[3])
            updates.append(values)
        if updates:
            session.execute(_UPDATE, updates)
    _apply_hist(session, delta)
    backlog = [{"status": k[0], "priority": k[1], "channel": k[2], "team_id": k[3], "n": v}
               for k, v in sorted(delta.backlog.items()) if v]
    if backlog:
        stmt = _insert(session, B)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[B.c.status, B.c.priority, B.c.channel, B.c.team_id],
            set_={"n": B.c.n + stmt.excluded.n}), backlog)


def hist_rows(delta: Delta) -> Counter[HistKey]:
    """The cross-product histogram changes projected on each single dimension."""
    out: Counter[HistKey] = Counter()
    for kind, changes in (("frt", delta.frt), ("res", delta.res)):
        for (day, ch, team, agent), hist in changes.items():
            for b, c in hist.items():
                if c:
                    for dim, key in (("all", ""), ("channel", ch), ("team", str(team)),
                                     ("agent", str(agent))):
                        out[(dim, 1, day, key, kind, b)] += c
                        out[(dim, HIST_BLOCK, day - day % HIST_BLOCK, key, kind, b)] += c
    return out


def _apply_hist(session: Session, delta: Delta) -> None:
    """Add the bucket changes to ``metric_hist``: one upsert, keys in sorted order."""
    rows = [{"dim": k[0], "span": k[1], "day": k[2], "key": k[3], "kind": k[4], "bucket": k[5],
             "n": v} for k, v in sorted(hist_rows(delta).items()) if v]
    if rows:
        stmt = _insert(session, H)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[H.c.dim, H.c.span, H.c.day, H.c.key, H.c.kind, H.c.bucket],
            set_={"n": H.c.n + stmt.excluded.n}), rows)
