"""CLI commands that live outside cli.py, one module per area, each with ``register(cli, outages)``.

Modules import only click at module level (heavy imports go inside the commands), so
``dipwatch --help`` stays fast.
"""

from __future__ import annotations

import importlib

# Plain list, no discovery: add a module here when it gains commands.
MODULES: list[str] = ["alerts", "outages", "event_study", "prune", "backfill", "dumps"]


def register_all(cli, outages) -> None:
    """Attach every module's commands to the ``cli`` group and the ``outages`` subgroup."""
    for name in MODULES:
        importlib.import_module(f"dipwatch.cli.{name}").register(cli, outages)
