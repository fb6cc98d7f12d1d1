"""How this dipwatch was installed, and the one command that upgrades it in place.

For messages that must say exactly what to run: a database whose schema another host's newer
dipwatch has upgraded is refused by older ones (see README, "Upgrading several hosts"). Read from
the ``direct_url.json`` that pip records for an install from a directory or a repository (PEP 610).
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse


def installed_from() -> dict | None:
    """pip's record of where dipwatch came from, or None (an index, or no record)."""
    for dist in importlib.metadata.distributions(name="dipwatch"):
        text = dist.read_text("direct_url.json")
        if text:
            try:
                return json.loads(text)
            except ValueError:
                return None
    return None


def upgrade_command(origin: dict | None = None, python: str | None = None) -> str:
    """The shell command that upgrades this dipwatch where it was installed from.

    :param origin: a ``direct_url.json`` record (default: this installation's).
    :param python: the interpreter whose environment holds dipwatch (default: this one).
    """
    origin = (installed_from() if origin is None else origin) or {}
    pip = f"{shlex.quote(python or sys.executable)} -m pip install"
    url = origin.get("url", "")
    vcs = origin.get("vcs_info")
    if vcs:
        revision = vcs.get("requested_revision")
        source = f"{vcs.get('vcs', 'git')}+{url}" + (f"@{revision}" if revision else "")
        return f"{pip} --upgrade {shlex.quote(source)}"
    path = unquote(urlparse(url).path) if url.startswith("file://") else None
    if path and "dir_info" in origin:
        install = f"{pip} {'-e ' if origin['dir_info'].get('editable') else ''}{shlex.quote(path)}"
        if (Path(path) / ".git").exists():
            return f"git -C {shlex.quote(path)} pull && {install}"
        return f"(the new release unpacked in {shlex.quote(path)}) {install}"
    if path:  # a wheel or an archive file: the newer one replaces it
        return f"{pip} --upgrade (the newer file than {shlex.quote(Path(path).name)})"
    return f"{pip} --upgrade dipwatch"
