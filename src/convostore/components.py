"""The agents, teams and workflows that stored sessions name.

convostore runs no agents, but sessions record which component they belong to (`component_id`)
and what it was (`component_data`: name, model). Listing those lets browsing clients such as the
Agno Agent UI offer the stored conversations by component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convostore.models import JSONObject, Principal, SessionType, Value

if TYPE_CHECKING:
    from convostore.service import SessionService


class Component(Value):
    """One component as its most recently updated session describes it."""

    id: str
    type: SessionType
    data: JSONObject | None = None
    session_count: int = 0


def list_components(
    service: SessionService, principal: Principal, component_type: SessionType, limit: int = 500
) -> list[Component]:
    """The distinct components of one type, newest first; a user-scoped key sees its own.

    They are grouped over every session of the tenant, so the list is cached like totals are.
    """
    return service.derived(
        principal.tenant_id,
        ("components", component_type, principal.user_id, limit),
        lambda: service.store.list_components(
            principal.tenant_id, component_type, user_id=principal.user_id, limit=limit
        ),
    )
