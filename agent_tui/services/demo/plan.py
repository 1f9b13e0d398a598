"""What every demo batch needs to know, and the deterministic helpers they share.

A :class:`DemoPlan` is small and picklable: worker processes get it once and
generate any batch from ``(plan, batch number)`` alone, so the content does
not depend on which process made a batch or in which order batches finish.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
#: Tickets spread over the last WINDOW_DAYS days.
WINDOW_DAYS = 90
#: Rows per write transaction (tickets or customers).
TICKET_BATCH = 5_000
CUSTOMER_BATCH = 10_000

_M64 = (1 << 64) - 1


def mix64(value: int) -> int:
    """splitmix64: a cheap, well-spread 64-bit hash of an integer (no global state)."""
    z = (value + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def batch_rng(seed: int, stream: str, number: int) -> random.Random:
    """An independent generator per (seed, stream, batch): same inputs, same numbers."""
    return random.Random(f"{seed}:{stream}:{number}")  # str seeds hash with SHA-512


@dataclass(frozen=True)
class AgentInfo:
    """An agent as the ticket generator needs it."""

    id: int
    login: str
    first_name: str
    role: str
    teams: tuple[str, ...]
    languages: tuple[str, ...]
    weight: float  # share of a team's tickets this agent takes


@dataclass(frozen=True)
class SlaTarget:
    first_response_min: int
    resolution_min: int
    next_response_min: int | None = None


@dataclass(frozen=True)
class DemoPlan:
    """The parameters of one demo build, fixed before any ticket is generated."""

    seed: int
    now_us: int
    tickets: int
    customers: int
    team_ids: dict[str, int]
    agents: tuple[AgentInfo, ...]
    sla: dict[int, SlaTarget]  # priority -> targets
    sla_vip: SlaTarget
    customer_bases: tuple[int, ...] = ()  # first real id of each customer batch
    organizations: dict[str, tuple[tuple[int, str, str | None], ...]] = field(
        default_factory=dict)  # locale -> (id, name, e-mail domain)
    unsolved_share: float = 0.15
    #: An event for every change (reply, note, status, assignment), not only creation.
    full_history: bool = True

    @property
    def window_start_us(self) -> int:
        return self.now_us - WINDOW_DAYS * DAY_US

    @property
    def ticket_batches(self) -> int:
        return -(-self.tickets // TICKET_BATCH)

    @property
    def customer_batches(self) -> int:
        return -(-self.customers // CUSTOMER_BATCH)

    def customer_id(self, index: int) -> int:
        batch, offset = divmod(index, CUSTOMER_BATCH)
        return self.customer_bases[batch] + offset

    @cached_property
    def _hour_cdf(self) -> list[float]:
        """Cumulative ticket volume per hour of the window: busy weekdays, quiet nights."""
        start = self.window_start_us - self.window_start_us % HOUR_US
        cdf: list[float] = []
        total = 0.0
        hours = WINDOW_DAYS * 24 + 1
        for h in range(hours):
            moment = datetime.fromtimestamp((start + h * HOUR_US) // 1_000_000, UTC)
            hour, weekday = moment.hour, moment.weekday()
            weight = 3.0 if 8 <= hour < 18 else 1.5 if 6 <= hour < 22 else 0.4
            if weekday >= 5:
                weight *= 0.5
            total += weight
            cdf.append(total)
        return cdf

    def created_at(self, fraction: float) -> int:
        """The creation time (epoch µs) of the ticket at ``fraction`` of the window.

        Monotone in ``fraction``, so ticket ids grow with creation time as
        they would in a real system.
        """
        cdf = self._hour_cdf
        target = fraction * cdf[-1]
        hour = min(bisect_right(cdf, target), len(cdf) - 1)
        below = cdf[hour - 1] if hour else 0.0
        within = (target - below) / (cdf[hour] - below)
        raw = hour * HOUR_US + int(within * HOUR_US)  # µs after `start`
        # The hourly grid overhangs the window by up to two hours: rescale onto it.
        end = self.now_us - MINUTE_US
        span = len(cdf) * HOUR_US
        return self.window_start_us + raw * (end - self.window_start_us) // span


def unsolved_share(tickets: int) -> float:
    """Share of unsolved tickets: a working queue for small stores, 15 % for big ones."""
    return 0.15 + 0.35 * max(0.0, 1.0 - tickets / 2000)
