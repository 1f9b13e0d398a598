"""Pure routing rules: who may take a ticket, who should, and the words for why.

No I/O: the service (``agent_tui.services.routing``) loads the facts — the
ticket's needs, the team's agents, their open load and when each was last
given a ticket — and these functions decide. Keeping the decision pure lets
a Hypothesis property check the must-hold ("never an away or offline agent,
never over capacity") over random agent pools without a database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent_tui.domain.enums import AgentStatus, Priority

#: The language of Latin text when the customer has none on file.
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Needs:
    """What a ticket asks of the agent who takes it."""

    team_id: int | None
    skills: frozenset[str] = frozenset()
    language: str = DEFAULT_LANGUAGE
    vip: bool = False
    senior_skill: str = "senior"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One agent of the ticket's team, with the facts routing needs."""

    agent_id: int
    login: str
    status: AgentStatus
    active: bool
    capacity: int
    load: int  # open tickets assigned now
    skills: frozenset[str]
    languages: frozenset[str]
    last_routed_seq: int | None = None  # event seq of the last ticket routing gave them


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why one candidate may or may not take the ticket."""

    candidate: Candidate
    eligible: bool
    why_not: str | None = None
    senior: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: who gets the ticket (or nobody) and the one-line reason."""

    winner: Candidate | None
    reason: str
    verdicts: list[Verdict] = field(default_factory=list)


def split_csv(value: str | None) -> frozenset[str]:
    """``"billing, Refunds"`` → ``{"billing", "refunds"}``."""
    if not value:
        return frozenset()
    return frozenset(v.strip().lower() for v in value.replace(" ", ",").split(",") if v.strip())


def judge(c: Candidate, needs: Needs) -> Verdict:
    """Eligibility of one agent. Order matters only for the message shown."""
    senior = needs.senior_skill in c.skills
    if not c.active:
        return Verdict(c, False, "disabled")
    if c.status is not AgentStatus.ONLINE:
        return Verdict(c, False, c.status.value)
    if c.load >= c.capacity:
        # Loads are counted up to capacity + 1: past that the exact number is moot.
        over = f"over capacity (>{c.capacity})" if c.load > c.capacity else \
            f"at capacity ({c.load}/{c.capacity})"
        return Verdict(c, False, over)
    missing = sorted(needs.skills - c.skills)
    if missing:
        return Verdict(c, False, "lacks skill " + ", ".join(missing))
    # An agent with no languages on file has not been configured: speaks the default.
    spoken = c.languages or frozenset({DEFAULT_LANGUAGE})
    if needs.language not in spoken:
        return Verdict(c, False, f"does not speak {needs.language}")
    return Verdict(c, True, None, senior)


def order_key(v: Verdict, vip: bool) -> tuple[int, float, int, int]:
    """Sort key, smallest first: seniors first for VIPs, least loaded, then round robin.

    Load is the share of capacity in use, so an agent with capacity 5 is not
    handed as many tickets as one with capacity 14. Ties go to whoever routing
    served longest ago (never served counts as longest ago), persisted as an
    event seq so the rotation is fair across processes.
    """
    c = v.candidate
    seniority = 0 if (vip and v.senior) else 1
    return (seniority, c.load / c.capacity, c.last_routed_seq or 0, c.agent_id)


def decide(candidates: Iterable[Candidate], needs: Needs) -> Decision:
    """Pick the agent for a ticket, or say why nobody can take it."""
    verdicts = [judge(c, needs) for c in candidates]
    eligible = sorted((v for v in verdicts if v.eligible), key=lambda v: order_key(v, needs.vip))
    if needs.team_id is None:
        return Decision(None, "no team: the ticket waits for a person to triage it", verdicts)
    if not eligible:
        return Decision(None, _nobody(verdicts, needs), verdicts)
    best = eligible[0]
    c = best.candidate
    parts = [f"least loaded eligible agent ({c.load}/{c.capacity})"]
    if len(eligible) > 1:
        runner = eligible[1].candidate
        if runner.load * c.capacity == c.load * runner.capacity and \
                order_key(eligible[1], needs.vip)[0] == order_key(best, needs.vip)[0]:
            parts.append("round robin among equally loaded")
    if needs.skills:
        parts.append("skill " + ",".join(sorted(needs.skills)))
    parts.append(f"language {needs.language}")
    if needs.vip:
        parts.append(f"VIP to {needs.senior_skill}" if best.senior
                     else f"VIP but no {needs.senior_skill} agent free")
    return Decision(c, "; ".join(parts), verdicts)


def _nobody(verdicts: Sequence[Verdict], needs: Needs) -> str:
    if not verdicts:
        return "no active agent in the team: stays in the team queue"
    counts: dict[str, int] = {}
    for v in verdicts:
        key = (v.why_not or "").split(" (")[0]
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
    return f"no eligible agent ({summary}): stays in the team queue"


# -- language -------------------------------------------------------------

def _script(ch: str) -> str | None:
    """The script of one letter, for the scripts we tell apart."""
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "ja"  # hiragana, katakana
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
        return "ko"  # hangul
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "zh"  # CJK ideographs (Japanese kana above wins for mixed text)
    if 0x0400 <= code <= 0x04FF:
        return "ru"
    if 0x0600 <= code <= 0x06FF:
        return "ar"
    if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
        return "latin"
    return None


def detect_language(text: str, *, fallback: str | None = None) -> str:
    """The customer's language from what they wrote, by script.

    Any kana makes it Japanese, otherwise CJK ideographs make it Chinese
    (even when mixed with Latin order numbers or product names: a Chinese
    speaker writes "我的 Aurora Hub 坏了"); Latin text is the customer's
    language on file, else English. Good enough to route by; not a
    language model.
    """
    counts: dict[str, int] = {}
    for ch in text[:2000]:
        s = _script(ch)
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    if counts.get("ja"):
        return "ja"
    if counts.get("ko"):
        return "ko"
    if counts.get("zh"):
        return "zh"
    for s in ("ru", "ar"):
        if counts.get(s, 0) > counts.get("latin", 0):
            return s
    return (fallback or DEFAULT_LANGUAGE).lower()


# -- next_ticket ranking --------------------------------------------------

_WEIGHT = {Priority.LOW: 1.0, Priority.NORMAL: 2.0, Priority.HIGH: 4.0, Priority.URGENT: 8.0}


def urgency(priority: Priority | int, due_at: datetime | None, now: datetime, *,
            skill_match: bool, mine: bool) -> tuple[float, str]:
    """Score a ticket for ``next_ticket`` and say why in one line.

    score = time-to-breach factor × priority weight × skill factor. The time
    factor rises as the SLA due time nears (overdue ranks highest, a day
    away is 1); no SLA clock counts as 1. Skill match doubles the score, a
    ticket already given to me untouched adds half again.
    """
    prio = Priority(int(priority))
    weight = _WEIGHT[prio]
    if due_at is None:
        time_factor, when = 1.0, "no SLA clock"
    else:
        minutes = (due_at - now).total_seconds() / 60
        if minutes <= 0:
            time_factor, when = 10.0 + min(-minutes / 60, 10.0), f"breached {_ago(-minutes)} ago"
        else:
            time_factor, when = max(1.0, 24 * 60 / max(minutes, 1.0)) ** 0.5, \
                f"breaches in {_ago(minutes)}"
    skill = 2.0 if skill_match else 1.0
    score = time_factor * weight * skill * (1.5 if mine else 1.0)
    bits = [when, prio.label, "skill match" if skill_match else "no skill match"]
    if mine:
        bits.append("assigned to you, untouched")
    return round(score, 3), " × ".join(bits)


def _ago(minutes: float) -> str:
    if minutes < 60:
        return f"{int(minutes)} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"
