"""WSGI entry point: ``gunicorn 'dashboard.wsgi:server'`` (settings from DIPWATCH_* and dipwatch.toml).

``create_app`` installs basic authentication when DIPWATCH_DASHBOARD_USERS or
DIPWATCH_DASHBOARD_USERS_FILE is set (see :mod:`dashboard.auth`).
"""

from __future__ import annotations

from analysis.scorers import apply_scorer
from dashboard.app import create_app, settle
from dipwatch.core.config import load_settings
from dipwatch.store import Store

_settings = load_settings()
apply_scorer(_settings)
server = create_app(_settings, Store(_settings.db_url)).server
settle()
