"""The scheduled collection job: each configured (brand, source), incremental, locked and logged.

A run stores each page of posts together with the checkpoint that covers it, so a run killed at
any moment loses nothing and duplicates nothing: the next run resumes from the last stored page.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from collectors.base import (
    Budget,
    BudgetExceededError,
    Collector,
    CollectorError,
    SourceUnavailableError,
)
from dipwatch.core.brands import Brand
from dipwatch.core.config import CONFIG_FILE, ConfigError, Settings
from dipwatch.core.conventions import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from dipwatch.core.records import Checkpoint
from dipwatch.jobs.ingest import save_batch
from dipwatch.store import Store

log = logging.getLogger("dipwatch.collect")



def _reddit(source_settings: dict, env: Mapping[str, str]) -> Collector:
    from collectors.reddit import make_reddit

    return make_reddit(source_settings, env)


def _hackernews(source_settings: dict, env: Mapping[str, str]) -> Collector:
    from collectors.hackernews import make_hackernews

    return make_hackernews(source_settings, env)


def _bluesky(source_settings: dict, env: Mapping[str, str]) -> Collector:
    from collectors.bluesky import make_bluesky

    return make_bluesky(source_settings, env)


def _mastodon(source_settings: dict, env: Mapping[str, str]) -> Collector:
    from collectors.mastodon import make_mastodon

    return make_mastodon(source_settings, env)


def _appstore(source_settings: dict, env: Mapping[str, str]) -> Collector:
    from collectors.appstore import make_appstore

    return make_appstore(source_settings, env)


# Every source by name: a factory taking the source's [sources.NAME] settings and the environment.
SOURCES: dict[str, Callable[[dict, Mapping[str, str]], Collector]] = {
    "reddit": _reddit,
    "hackernews": _hackernews,
    "bluesky": _bluesky,
    "mastodon": _mastodon,
    "appstore": _appstore,
}


@dataclass
class Outcome:
    """What one (source, brand) collection did."""

    source: str
    brand: str
    status: str = "ok"  # ok | failed | partial
    fetched: int = 0
    new: int = 0
    error: str | None = None
    warnings: list[str] | None = None  # signs of a degrading source: the run log keeps them for `status`


def plan(settings: Settings, brand_keys: list[str] | None, source_names: list[str] | None
         ) -> dict[str, list[Brand]]:
    """The brands to collect per source: each brand's ``[brands.X.sources.NAME]`` tables.

    :raises ConfigError: for an unknown brand or source name.
    """
    for name in source_names or []:
        if name not in SOURCES:
            raise ConfigError(f"--source: unknown source {name!r}; expected one of {', '.join(SOURCES)}")
    brands = list(settings.brands.values())
    if brand_keys:
        missing = [k for k in brand_keys if k.lower() not in settings.brands]
        if missing:
            raise ConfigError(f"--brand: {missing[0]!r} is not a brand in the config "
                              f"(collection needs its terms and sources in dipwatch.toml)")
        brands = [settings.brands[k.lower()] for k in brand_keys]
    by_source: dict[str, list[Brand]] = {}
    for brand in brands:
        for name in brand.sources:
            if name not in SOURCES:
                where = settings.config_path or "dipwatch.toml"
                raise ConfigError(f"{where}: brands.{brand.key}.sources.{name}: unknown source; "
                                  f"expected one of {', '.join(SOURCES)}")
            if source_names is None or name in source_names:
                by_source.setdefault(name, []).append(brand)
    return by_source


def run_collect(settings: Settings, store: Store, brand_keys: list[str] | None = None,
                source_names: list[str] | None = None, since: datetime | None = None,
                max_seconds: float = 540.0, wait: bool = False,
                env: Mapping[str, str] | None = None) -> int:
    """Collect every planned (source, brand) once; return the exit code (0, 1 or 2).

    Holds the store's collect lock for the whole run: a second run started meanwhile returns 0 at
    once (or waits, with ``wait``).
    """
    env = os.environ if env is None else env
    work = plan(settings, brand_keys, source_names)
    if not work:
        raise ConfigError(_nothing_to_collect(settings, brand_keys, source_names))
    with store.exclusive("collect", wait=wait) as acquired:
        if not acquired:
            log.warning("another collect run is in progress; this one exits (use --wait to wait)")
            return EXIT_OK
        budget = Budget.seconds(max_seconds)
        code = EXIT_OK
        for source, brands in work.items():
            code = max(code, _collect_source(settings, store, source, brands, since, budget, env))
        return code


def _nothing_to_collect(settings: Settings, brand_keys, source_names) -> str:
    """Why there is nothing to collect, naming the config file looked for: a scheduled job started
    in the wrong folder used to exit 0 and "succeed" forever."""
    if settings.config_path is None:
        return (f"{Path.cwd() / CONFIG_FILE}: config file not found, so there is nothing to collect; "
                "run from the folder that holds dipwatch.toml, or pass --config FILE "
                "(env DIPWATCH_CONFIG)")
    chosen = " among those chosen by --brand/--source" if brand_keys or source_names else ""
    return (f"{settings.config_path}: no brand{chosen} has a [brands.NAME.sources.SOURCE] table, so "
            "there is nothing to collect")


def session_path(db_url: str, source: str, env: Mapping[str, str]) -> Path:
    """Where ``source`` keeps its login session between runs (a 0600 file: collectors/session.py).

    Beside a SQLite database file, as its lock files are: ``<db>.<source>-session``. Otherwise
    (PostgreSQL, in memory) under ``$XDG_STATE_HOME/dipwatch`` (default ``~/.local/state/dipwatch``), named
    by a digest of the database URL without its password, so two databases never share a session.
    """
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.{source}-session")
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(state) / "dipwatch" / f"{source}-session-{digest}"


def _collect_source(settings: Settings, store: Store, source: str, brands: list[Brand],
                    since: datetime | None, budget: Budget, env: Mapping[str, str]) -> int:
    started = datetime.now(UTC)
    try:
        collector = SOURCES[source](settings.sources.get(source, {}), env)
        keep_session = getattr(collector, "keep_session_in", None)
        if keep_session is not None:
            keep_session(str(session_path(settings.db_url, source, env)))
    except SourceUnavailableError as exc:
        log.error("%s: %s", source, exc)
        for brand in brands:
            _record(store, Outcome(source, brand.key, "failed", error=str(exc)), started)
        return EXIT_BAD_INPUT if exc.missing_config else EXIT_FAILED
    code = EXIT_OK
    for position, brand in enumerate(brands):
        outcome = Outcome(source, brand.key)
        started = datetime.now(UTC)
        try:
            budget.check()
            _collect_brand(store, collector, brand, since, budget, outcome)
        except BudgetExceededError as exc:
            outcome.status, outcome.error = "partial", str(exc)
        except SourceUnavailableError as exc:
            outcome.status, outcome.error = "failed", str(exc)
            _record(store, outcome, started)
            log.error("%s: %s; skipping it for the other brands", source, exc)
            for other in brands[position + 1:]:
                _record(store, Outcome(source, other.key, "failed", error=str(exc)), started)
            return EXIT_BAD_INPUT if exc.missing_config else EXIT_FAILED
        except CollectorError as exc:
            outcome.status, outcome.error = "failed", str(exc)
        _record(store, outcome, started)
        if outcome.status != "ok":
            log.error("%s/%s: %s (%s)", source, brand.key, outcome.status, outcome.error)
            code = EXIT_FAILED
        else:
            log.info("%s/%s: %d fetched, %d new", source, brand.key, outcome.fetched, outcome.new)
        if outcome.status == "partial":
            break
    return code


def _collect_brand(store: Store, collector: Collector, brand: Brand, since, budget: Budget,
                   outcome: Outcome) -> None:
    salt = store.get_meta("author_salt")
    checkpoints = store.get_checkpoints(collector.name, brand.key)
    for page in collector.pages(brand, checkpoints, since, budget):
        batch = [(post, [(brand.key, term)]) for post, term in page.posts]
        checkpoint = None
        if page.checkpoint is not None:
            query, cursor = page.checkpoint
            checkpoint = Checkpoint(collector.name, brand.key, query, cursor)
        result = save_batch(store, batch, salt, checkpoint)
        for warning in page.warnings:
            log.warning("%s/%s: %s", collector.name, brand.key, warning)
            outcome.warnings = [*(outcome.warnings or []), warning]
        outcome.fetched += len(batch)
        outcome.new += result.new
        log.debug("%s/%s: page of %d, %d new", collector.name, brand.key, len(batch), result.new)


def _record(store: Store, outcome: Outcome, started: datetime) -> None:
    counts: dict = {"fetched": outcome.fetched, "new": outcome.new}
    if outcome.warnings:
        counts["warnings"] = outcome.warnings
    store.record_run("collect", outcome.source, outcome.brand, started, outcome.status, counts,
                     message=outcome.error)
