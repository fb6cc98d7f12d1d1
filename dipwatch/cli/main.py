"""The ``dipwatch`` command line: the group and every command, each declared once in its module.

Command modules import only click and :mod:`dipwatch.cli.options` at module level (heavy imports go
inside the commands), so ``dipwatch --help`` stays fast. Exit codes: 0 ok; 1 something failed (some
source, a delivery) or a bug (with its traceback); 2 bad input or config.
"""

from __future__ import annotations

import click

from dipwatch.cli import alerts, backfill, event_study, ingest, outages, prune, report, serve, status


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dipwatch")
def cli():
    """dipwatch: how customers' public sentiment dips during a brand's outage, and when it recovers."""


for _command in (serve.demo, serve.dashboard, ingest.import_, ingest.score, ingest.collect, status.status,
                 status.brands, outages.outages, report.report, report.export,
                 event_study.event_study_command, alerts.alerts, prune.prune, backfill.backfill):
    cli.add_command(_command)


def main():
    cli(prog_name="dipwatch")


if __name__ == "__main__":
    main()
