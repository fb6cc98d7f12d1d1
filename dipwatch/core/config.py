"""Settings and brands: flags, then DIPWATCH_* environment variables, then dipwatch.toml, then defaults."""

from __future__ import annotations

import os
import re
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from dipwatch.core.alert_rules import AlertRules
from dipwatch.core.brands import Brand, normalise_brand_name
from dipwatch.core.conventions import SCORERS
from dipwatch.core.errors import UserError
from dipwatch.core.params import MetricParams, check_range

DEFAULT_DB = Path("data") / "dipwatch.db"
CONFIG_FILE = "dipwatch.toml"
TOP_LEVEL_KEYS = {"dipwatch", "brands", "sources", "metrics", "alerts", "sentiment"}
BRAND_KEYS = {"name", "terms", "exclude", "competitors", "sources", "alerts"}
DIPWATCH_KEYS = {"db"}
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
# The [alerts] settings checked here, before dipwatch.core.delivery.delivery_from builds the
# delivery from them, so each mistake names its key: what each must be, and the range of a number.
ALERT_TEXTS = ("webhook_url_env", "email_from", "smtp_host", "dashboard_url")
ALERT_FLAGS = ("starttls",)
ALERT_NUMBERS = {"timeout": (0.1, 600)}  # seconds


class ConfigError(UserError):
    """A setting or config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Settings:
    """Everything a command needs, built once and passed in.

    :param db_url: SQLAlchemy URL of the store.
    :param config_path: the brands config file read, or None when there is none.
    :param brands: the brands of the config, by key.
    :param sources: per-source settings shared by all brands (``[sources.NAME]``).
    :param metrics: metric parameters (``[metrics]``).
    :param alerts: alert delivery settings (``[alerts]``; secrets come from the environment).
    """

    db_url: str
    config_path: Path | None = None
    brands: dict[str, Brand] = field(default_factory=dict)
    sources: dict[str, dict] = field(default_factory=dict)
    metrics: MetricParams = field(default_factory=MetricParams)
    alerts: dict = field(default_factory=dict)
    scorer: str = SCORERS[0]


def db_url_from(value: str | os.PathLike) -> str:
    """Turn a path or a SQLAlchemy URL into a URL (a bare path means SQLite)."""
    text = os.fspath(value)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def load_settings(
    db: str | None = None,
    config: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build the settings: flag > ``DIPWATCH_*`` environment > dipwatch.toml > default.

    :param db: ``--db``: a path or SQLAlchemy URL.
    :param config: ``--config``: the brands config file.
    :param env: the environment (default ``os.environ``).
    :param cwd: the working directory that relative defaults resolve against (default: current).
    :raises ConfigError: naming the file and key at fault.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    config_path = _find_config(config, env, cwd)
    data = _read_toml(config_path) if config_path else {}
    where = str(config_path) if config_path else CONFIG_FILE

    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown section {sorted(unknown)[0]!r}; expected one of {sorted(TOP_LEVEL_KEYS)}"
        )
    shell = _table(data, "dipwatch", where)
    for key in set(shell) - DIPWATCH_KEYS:
        raise ConfigError(
            f"{where}: dipwatch.{key}: unknown setting; expected one of {sorted(DIPWATCH_KEYS)}"
        )
    db_value = db or env.get("DIPWATCH_DB") or shell.get("db") or str(cwd / DEFAULT_DB)
    origin = "--db" if db else "DIPWATCH_DB" if env.get("DIPWATCH_DB") else f"{where}: dipwatch.db"
    if not isinstance(db_value, str) or not db_value.strip():
        raise ConfigError(f"{origin}: expected a path or SQLAlchemy URL string")
    scheme = db_value.split("://", 1)[0] if "://" in db_value else None
    if scheme is not None and not URL_SCHEME.match(scheme):
        raise ConfigError(f"{origin}: {db_value[:40]!r} is not a path or SQLAlchemy URL "
                          "(e.g. data/dipwatch.db, postgresql+psycopg://host/db)")
    if "://" not in db_value and not Path(db_value).is_absolute():
        db_value = str(cwd / db_value)

    brands = {}
    for key, table in _table(data, "brands", where).items():
        brand = _parse_brand(key, table, where)
        brands[brand.key] = brand
    sources = _table(data, "sources", where)
    for name, table in sources.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: sources.{name}: expected a table of settings")
    metrics = _parse_metrics(_table(data, "metrics", where), where)
    scorer = _parse_scorer(_table(data, "sentiment", where), env, where)
    alerts = _table(data, "alerts", where)
    if alerts:  # an empty [alerts] is valid; skipping it spares `dipwatch status` notify's ~50 ms imports
        _check_alerts(alerts, where)
    return Settings(
        db_url=db_url_from(db_value),
        config_path=config_path,
        brands=brands,
        sources=dict(sources),
        metrics=metrics,
        alerts=dict(alerts),
        scorer=scorer,
    )


def _parse_scorer(table: dict, env: Mapping[str, str], where: str) -> str:
    """``[sentiment] scorer`` (env ``DIPWATCH_SCORER`` wins), checked against ``SCORERS``."""
    for key in set(table) - {"scorer"}:
        raise ConfigError(f"{where}: sentiment.{key}: unknown setting; expected one of ['scorer']")
    value = env.get("DIPWATCH_SCORER") or table.get("scorer", SCORERS[0])
    origin = "DIPWATCH_SCORER" if env.get("DIPWATCH_SCORER") else f"{where}: sentiment.scorer"
    if value not in SCORERS:
        raise ConfigError(f"{origin}: expected one of {', '.join(SCORERS)}, got {value!r}")
    return value


def _check_alerts(table: dict, where: str) -> None:
    """Refuse an ``[alerts]`` section that cannot be used, naming the key and what was expected."""
    for key in ALERT_TEXTS:
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise ConfigError(f"{where}: alerts.{key}: expected a non-empty string, got {table[key]!r}")
    for key in ALERT_FLAGS:
        if key in table and not isinstance(table[key], bool):
            raise ConfigError(f"{where}: alerts.{key}: expected true or false, got {table[key]!r}")
    for key, allowed in ALERT_NUMBERS.items():
        if key in table:
            try:
                check_range(key, table[key], allowed)
            except ValueError as exc:
                raise ConfigError(f"{where}: alerts.{exc}") from None
    try:
        from dipwatch.core.delivery import delivery_from

        delivery_from(table, {}, where)
    except (ValueError, TypeError) as exc:
        named = f"{where}: alerts." in str(exc)  # delivery_from names the key in each of its own errors
        raise ConfigError(str(exc) if named else f"{where}: alerts: {exc}") from None


def _find_config(flag, env: Mapping[str, str], cwd: Path) -> Path | None:
    chosen = flag or env.get("DIPWATCH_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    default = cwd / CONFIG_FILE
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a UTF-8 TOML file") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a dipwatch config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a table ([{key}]), got {type(value).__name__}")
    return value


def _strings(value, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key}: expected a list of non-empty strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _parse_brand(key: str, table, where: str) -> Brand:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: brands.{key}: expected a table ([brands.{key}])")
    try:
        brand_key = normalise_brand_name(key)
    except ValueError as exc:
        raise ConfigError(f"{where}: brands.{key}: {exc}") from None
    for extra in set(table) - BRAND_KEYS:
        raise ConfigError(
            f"{where}: brands.{key}.{extra}: unknown setting; expected one of {sorted(BRAND_KEYS)}"
        )
    name = table.get("name", key)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: brands.{key}.name: expected a non-empty string")
    terms = _strings(table.get("terms", [name]), f"brands.{key}.terms", where)
    if not terms:
        raise ConfigError(f"{where}: brands.{key}.terms: expected at least one term")
    exclude = _strings(table.get("exclude", []), f"brands.{key}.exclude", where)
    competitors = _strings(table.get("competitors", []), f"brands.{key}.competitors", where)
    try:
        competitors = tuple(normalise_brand_name(c) for c in competitors)
    except ValueError as exc:
        raise ConfigError(f"{where}: brands.{key}.competitors: {exc}") from None
    sources = table.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise ConfigError(
            f"{where}: brands.{key}.sources: expected tables like [brands.{key}.sources.reddit]"
        )
    alerts = table.get("alerts", {})
    if not isinstance(alerts, dict):
        raise ConfigError(f"{where}: brands.{key}.alerts: expected a table ([brands.{key}.alerts])")
    known = [f.name for f in fields(AlertRules)]
    for extra in sorted(set(alerts) - set(known)):
        raise ConfigError(f"{where}: brands.{key}.alerts.{extra}: unknown setting; expected one of "
                          f"{', '.join(known)}")
    try:
        rules = AlertRules(**alerts)
    except ValueError as exc:
        raise ConfigError(f"{where}: brands.{key}.alerts.{exc}") from None
    return Brand(
        key=brand_key,
        alerts=rules,
        name=name.strip(),
        terms=terms,
        exclude=exclude,
        competitors=competitors,
        sources=sources,
    )


def _parse_metrics(table: dict, where: str) -> MetricParams:
    known = {f.name: f for f in fields(MetricParams)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: metrics.{key}: unknown setting; expected one of {sorted(known)}")
        values[key] = value
    try:
        return MetricParams(**values)
    except ValueError as exc:
        raise ConfigError(f"{where}: metrics.{exc}") from None


class SettingsWatch:
    """Settings for a long-running process (the dashboard): read again when the config file changes.

    The file's modification time, size and inode are looked at, at most once every ``interval``
    seconds, so an edited (or atomically replaced) dipwatch.toml applies to the next request without a
    restart. The store stays the one opened at start-up (``db_url`` is kept). A file that no longer
    reads (a half-saved edit, a mistake) keeps the last good settings and is reported once through
    ``warn``; so is a file that is gone. Without a config file at start-up there is nothing to watch.
    """

    def __init__(self, settings: Settings, interval: float = 2.0, warn=None, clock=None):
        self._settings, self.interval = settings, interval
        self._warn = warn or (lambda message: None)
        self._clock = clock or time.monotonic
        self._stamp = self._stat()
        self._checked = self._clock()
        self._reported = None

    def _stat(self):
        path = self._settings.config_path
        if path is None:
            return None
        try:
            found = path.stat()
        except OSError:
            return "missing"
        return found.st_mtime_ns, found.st_size, found.st_ino

    def current(self) -> Settings:
        """The settings as of the config file's latest readable version."""
        now = self._clock()
        if self._settings.config_path is None or now - self._checked < self.interval:
            return self._settings
        self._checked = now
        stamp = self._stat()
        if stamp == self._stamp:
            return self._settings
        try:
            if stamp == "missing":
                raise ConfigError(f"{self._settings.config_path}: config file not found")
            fresh = load_settings(db=self._settings.db_url, config=self._settings.config_path)
        except ConfigError as exc:
            if self._reported != stamp:
                self._reported = stamp
                self._warn(f"{exc}; keeping the settings read before")
            return self._settings
        self._settings, self._stamp = fresh, stamp
        return fresh
