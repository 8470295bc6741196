"""`convostore import ...`: bring conversation history over from other systems.

Each source is a command in its own module (`import_memories_ai`, `import_agno`); this group
only gathers them, so the modules import nothing of each other.
"""

from __future__ import annotations

import click

from convostore.cli.import_agno import agno
from convostore.cli.import_memories_ai import memories_ai


@click.group("import")
def import_group() -> None:
    """Import conversation history from another system (idempotent: safe to run again)."""


import_group.add_command(memories_ai)
import_group.add_command(agno)
