"""The ``dipwatch`` command line: the group and every command, each declared once in its module.

Command modules import only click and :mod:`dipwatch.cli.options` at module level (heavy imports go
inside the commands), and each is imported when its command is used (``--help`` lists them all), so
``dipwatch status`` reads no other command's module. Exit codes: 0 ok; 1 something failed (some
source, a delivery) or a bug (with its traceback); 2 bad input or config.
"""

from __future__ import annotations

import importlib

import click

# Command name -> "module:attribute" of its click command or group.
COMMANDS = {
    "alerts": "dipwatch.cli.alerts:alerts",
    "backfill": "dipwatch.cli.backfill:backfill",
    "brands": "dipwatch.cli.status:brands",
    "collect": "dipwatch.cli.ingest:collect",
    "dashboard": "dipwatch.cli.serve:dashboard",
    "demo": "dipwatch.cli.serve:demo",
    "event-study": "dipwatch.cli.event_study:event_study_command",
    "export": "dipwatch.cli.report:export",
    "import": "dipwatch.cli.ingest:import_",
    "outages": "dipwatch.cli.outages:outages",
    "prune": "dipwatch.cli.prune:prune",
    "report": "dipwatch.cli.report:report",
    "score": "dipwatch.cli.ingest:score",
    "status": "dipwatch.cli.status:status",
}


class Commands(click.Group):
    """A group whose commands (``COMMANDS``) are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dipwatch")
def cli():
    """dipwatch: how customers' public sentiment dips during a brand's outage, and when it recovers."""


def main():
    cli(prog_name="dipwatch")


if __name__ == "__main__":
    main()
