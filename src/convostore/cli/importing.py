"""`convostore import ...`: bring conversation history over from other systems.

Each source adds its own command to this group (see `import_memories_ai`, `import_agno`).
"""

from __future__ import annotations

import click


@click.group("import")
def import_group() -> None:
    """Import conversation history from another system (idempotent: safe to run again)."""


from convostore.cli import import_agno as _agno  # noqa: E402, F401  (registers the command)
from convostore.cli import import_memories_ai as _memories_ai  # noqa: E402, F401  (registers the command)
