"""The agents, teams and workflows that stored sessions name.

convostore runs no agents, but sessions record which component they belong to (`component_id`)
and what it was (`component_data`: name, model). Listing those lets browsing clients such as the
Agno Agent UI offer the stored conversations by component.

Who may describe a component: a key confined to one end user can be held by a browser, so what it
writes must not rename or re-model the components the rest of its tenant sees. A session records
whether its component id and data were written by a tenant-wide key (`component_trusted`); views
of the whole tenant describe a component only from such sessions, and list one that none
describes by its id alone. A user-scoped caller sees its own sessions' components, described by
its own sessions. The value is `models.Component`, the trust rule `rules.describes_components`.
"""

from __future__ import annotations

from convostore.models import Component, Principal, SessionType
from convostore.service import SessionService


def list_components(
    service: SessionService,
    principal: Principal,
    component_type: SessionType,
    limit: int = 500,
    *,
    component_id: str | None = None,
) -> list[Component]:
    """The distinct components of one type (or the one of `component_id`), newest first; a
    user-scoped key sees its own.

    They are grouped over every session of the tenant, so the list is cached like totals are.
    """
    return service.derived(
        principal.tenant_id,
        ("components", component_type, principal.user_id, component_id, limit),
        lambda: service.store.list_components(
            principal.tenant_id,
            component_type,
            user_id=principal.user_id,
            component_id=component_id,
            limit=limit,
        ),
    )
