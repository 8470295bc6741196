"""The `convostore` entry point: assembles the command groups.

`serve` is imported only when it is looked up (run, or listed by `convostore --help`): it loads
the HTTP server and FastAPI, which the other commands (import, export, keys, sessions, search,
db, demo) do not need and so start without.
"""

from __future__ import annotations

import importlib

import click

from convostore.cli.db import db_group
from convostore.cli.demo import demo_command
from convostore.cli.export import export_group
from convostore.cli.importing import import_group
from convostore.cli.keys import keys_group
from convostore.cli.search import search_command
from convostore.cli.sessions import sessions_group
from convostore.version import __version__

# name -> "module:attribute" of a command imported on first use
LAZY_COMMANDS = {"serve": "convostore.cli.serve:serve_command"}


class Commands(click.Group):
    """A group that also offers the commands in LAZY_COMMANDS, importing each when looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module_name), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convostore")
def cli() -> None:
    """convostore: a session-history service for AI agents and video-chat assistants."""


cli.add_command(demo_command)
cli.add_command(sessions_group)
cli.add_command(search_command)
cli.add_command(keys_group)
cli.add_command(db_group)
cli.add_command(import_group)
cli.add_command(export_group)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
