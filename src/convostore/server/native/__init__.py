"""The native `/v1` API: one router assembled from one module per resource."""

from fastapi import APIRouter

from convostore.server.native import admin, evidence, memories, messages, sessions

router = APIRouter()
router.include_router(admin.router)
router.include_router(sessions.router)
router.include_router(messages.router)
router.include_router(memories.router)
router.include_router(evidence.router)

__all__ = ["router"]
