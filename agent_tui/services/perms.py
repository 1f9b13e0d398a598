"""Role checks shared by every service."""

from __future__ import annotations

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Forbidden
from agent_tui.store.events import Actor


def require(actor: Actor, role: Role, what: str) -> None:
    """Refuse unless ``actor`` has at least ``role``."""
    if actor.role.rank < role.rank:
        raise Forbidden(f"{what} needs the {role.value} role; {actor.login} is {actor.role.value}")


def sees_personal_data(actor: Actor) -> bool:
    """Agents see personal data masked (ARCHITECTURE §9); supervisors and admins do not."""
    return actor.role.rank >= Role.SUPERVISOR.rank
