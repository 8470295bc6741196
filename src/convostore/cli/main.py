"""The `convostore` entry point: assembles the command groups."""

from __future__ import annotations

import click

from convostore import __version__
from convostore.cli.db import db_group
from convostore.cli.demo import demo_command
from convostore.cli.export import export_group
from convostore.cli.importing import import_group
from convostore.cli.keys import keys_group
from convostore.cli.serve import serve_command
from convostore.cli.sessions import sessions_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convostore")
def cli() -> None:
    """convostore: a session-history service for AI agents and video-chat assistants."""


cli.add_command(serve_command)
cli.add_command(demo_command)
cli.add_command(sessions_group)
cli.add_command(keys_group)
cli.add_command(db_group)
cli.add_command(import_group)
cli.add_command(export_group)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
