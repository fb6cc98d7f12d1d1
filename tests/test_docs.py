"""The README documents every setting a user can put in dipwatch.toml (settings declared once, in code)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from analysis.alerts import AlertRules
from dipwatch.core.delivery import DELIVERY_KEYS
from dipwatch.core.params import MetricParams

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [f.name for f in fields(MetricParams)])
def test_every_metric_parameter_is_documented_with_its_default(name):
    default = getattr(MetricParams(), name)
    shown = str(default).lower() if isinstance(default, bool) else str(default)
    assert f"| `{name}` | `{shown}` |" in README


@pytest.mark.parametrize("name", [f.name for f in fields(AlertRules)])
def test_every_alert_rule_is_documented(name):
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("name", sorted(DELIVERY_KEYS))
def test_every_delivery_setting_is_documented(name):
    assert f"{name} =" in README


def test_readme_gives_the_two_commands():
    assert "pip install . && dipwatch demo" in README
    assert 'pip install -e ".[test]" && pytest' in README


def test_every_package_is_in_the_wheel():
    """`pip install .` (the README's first command) ships every package the code imports."""
    import tomllib

    root = Path(__file__).parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapped = {root / folder: name for name, folder in config["package-dir"].items()}
    found = set()
    for init in root.glob("*/**/__init__.py"):
        folder = init.parent
        if folder.parts[len(root.parts)] in {"tests", "benchmarks", ".venv", "build"}:
            continue
        for base, name in mapped.items():
            if folder == base or base in folder.parents:
                found.add(".".join([name, *folder.relative_to(base).parts]))
                break
        else:
            found.add(".".join(folder.relative_to(root).parts))
    assert found <= set(config["packages"]), sorted(found - set(config["packages"]))
