"""Settings: flag > DIPWATCH_* env > dipwatch.toml > default, and config errors that name the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dipwatch.core.config import ConfigError, load_settings

ISSUE_CONFIG = """\
[brands.acme]
terms = ["Acme", "Acme Retail", "acme.com"]
exclude = ["acme anvil"]
competitors = ["globex"]
[brands.acme.sources.reddit]
subreddits = ["unitedkingdom", "CasualUK"]
[sources.reddit]
oauth_url = "https://oauth.reddit.com"
"""


def settings_in(cwd: Path, db=None, config=None, env=None):
    return load_settings(db=db, config=config, env=env or {}, cwd=cwd)


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path.resolve())


# --- database precedence -------------------------------------------------------------------------


def test_default_db_is_data_dipwatch_db_under_cwd_as_absolute_sqlite_url(tmp_path):
    assert settings_in(tmp_path).db_url == sqlite_url(tmp_path / "data" / "dipwatch.db")


def test_config_file_db_beats_default(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[dipwatch]\ndb = "file.db"\n')
    assert settings_in(tmp_path).db_url == sqlite_url(tmp_path / "file.db")


def test_env_db_beats_config_file(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[dipwatch]\ndb = "file.db"\n')
    settings = settings_in(tmp_path, env={"DIPWATCH_DB": "env.db"})
    assert settings.db_url == sqlite_url(tmp_path / "env.db")


def test_flag_db_beats_env_and_config_file(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[dipwatch]\ndb = "file.db"\n')
    settings = settings_in(tmp_path, db="flag.db", env={"DIPWATCH_DB": "env.db"})
    assert settings.db_url == sqlite_url(tmp_path / "flag.db")


def test_absolute_bare_path_becomes_sqlite_url(tmp_path):
    target = tmp_path / "elsewhere" / "x.db"
    assert settings_in(tmp_path, db=str(target)).db_url == sqlite_url(target)


def test_url_is_kept_as_given(tmp_path):
    url = "postgresql+psycopg://user@localhost/dipwatch"
    assert settings_in(tmp_path, db=url).db_url == url
    assert settings_in(tmp_path, env={"DIPWATCH_DB": url}).db_url == url


# --- finding the config file ---------------------------------------------------------------------


def test_config_found_in_cwd(tmp_path):
    (tmp_path / "dipwatch.toml").write_text(ISSUE_CONFIG)
    settings = settings_in(tmp_path)
    assert settings.config_path == tmp_path / "dipwatch.toml"
    assert set(settings.brands) == {"acme"}


def test_config_from_env_beats_cwd_file(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[brands.cwdbrand]\nterms = ["Cwd"]\n')
    other = tmp_path / "other.toml"
    other.write_text(ISSUE_CONFIG)
    settings = settings_in(tmp_path, env={"DIPWATCH_CONFIG": str(other)})
    assert settings.config_path == other
    assert set(settings.brands) == {"acme"}


def test_config_flag_beats_env(tmp_path):
    flag = tmp_path / "flag.toml"
    flag.write_text('[brands.flagbrand]\nterms = ["Flag"]\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text(ISSUE_CONFIG)
    settings = settings_in(tmp_path, config=str(flag), env={"DIPWATCH_CONFIG": str(env_file)})
    assert set(settings.brands) == {"flagbrand"}


def test_empty_config_env_falls_back_to_cwd_file(tmp_path):
    (tmp_path / "dipwatch.toml").write_text(ISSUE_CONFIG)
    settings = settings_in(tmp_path, env={"DIPWATCH_CONFIG": ""})
    assert set(settings.brands) == {"acme"}


def test_no_config_anywhere_gives_no_brands(tmp_path):
    settings = settings_in(tmp_path, env={"DIPWATCH_CONFIG": ""})
    assert settings.config_path is None
    assert settings.brands == {}


def test_empty_config_file_is_valid(tmp_path):
    (tmp_path / "dipwatch.toml").write_text("")
    settings = settings_in(tmp_path)
    assert settings.brands == {}
    assert settings.sources == {}
    assert settings.metrics.bucket == "1h"


def test_missing_config_flag_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml.*not found"):
        settings_in(tmp_path, config="nope.toml")


# --- the shape from the issue ----------------------------------------------------------------


def test_issue_config_parses(tmp_path):
    (tmp_path / "dipwatch.toml").write_text(ISSUE_CONFIG)
    settings = settings_in(tmp_path)
    acme = settings.brands["acme"]
    assert acme.terms == ("Acme", "Acme Retail", "acme.com")
    assert acme.exclude == ("acme anvil",)
    assert acme.competitors == ("globex",)
    assert acme.sources == {"reddit": {"subreddits": ["unitedkingdom", "CasualUK"]}}
    assert settings.sources == {"reddit": {"oauth_url": "https://oauth.reddit.com"}}
    assert acme.match("the Acme Retail app is down") == "Acme Retail"


def test_metrics_section_sets_params(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[metrics]\nbucket = "15min"\nbaseline_days = 7\n')
    metrics = settings_in(tmp_path).metrics
    assert (metrics.bucket, metrics.baseline_days) == ("15min", 7)


# --- bad configs name the key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[brands.acme]\nterms = "Acme"\n', "brands.acme.terms"),
        ('[brands.acme]\nterms = ["Acme"]\ncolour = "red"\n', "brands.acme.colour"),
        ('[brands.acme]\nterms = []\n', "brands.acme.terms"),
        ('[brands.acme]\nterms = ["Acme", ""]\n', "brands.acme.terms"),
        ('[brands.acme]\nterms = ["Acme"]\ncompetitors = ["Not Valid!"]\n', "brands.acme.competitors"),
        ('[brands."Bad Name!"]\nterms = ["x"]\n', "brands.Bad Name!"),
        ("[reporting]\nx = 1\n", "reporting"),
        ('[dipwatch]\ndatabase = "x.db"\n', "dipwatch.database"),
        ("[dipwatch]\ndb = 3\n", "dipwatch.db"),
        ('[metrics]\nbucket = "2h"\n', "metrics.bucket"),
        ("[metrics]\nbaseline_days = -1\n", "metrics.baseline_days"),
        ("[metrics]\nwindow = 3\n", "metrics.window"),
        ("[sources]\nreddit = 1\n", "sources.reddit"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(tmp_path, toml, named):
    (tmp_path / "dipwatch.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        settings_in(tmp_path)
    message = str(caught.value)
    assert named in message
    assert "dipwatch.toml" in message


def test_bad_metrics_bucket_says_what_was_expected(tmp_path):
    (tmp_path / "dipwatch.toml").write_text('[metrics]\nbucket = "2h"\n')
    with pytest.raises(ConfigError, match=r"metrics\.bucket: expected one of 15min, 1h, 1d"):
        settings_in(tmp_path)


def test_bad_toml_is_a_config_error_naming_the_file(tmp_path):
    (tmp_path / "dipwatch.toml").write_text("[brands.acme\nterms = [\n")
    with pytest.raises(ConfigError, match=r"dipwatch\.toml: not valid TOML"):
        settings_in(tmp_path)


# --- absurd numbers: inf, nan and values no outage can mean (issue 16, item 15) -------------------


@pytest.mark.parametrize(
    ("toml", "named", "allowed"),
    [
        ("[metrics]\nbaseline_days = 99999999999999\n", "metrics.baseline_days", "from 0 to 366"),
        ("[metrics]\nrecovery_hold_h = inf\n", "metrics.recovery_hold_h", "from 0 to 8784"),
        ("[metrics]\nrecovery_sd = nan\n", "metrics.recovery_sd", "from 0 to 100"),
        ("[metrics]\ntrough_horizon_h = -inf\n", "metrics.trough_horizon_h", "from 0 to 8784"),
        ("[metrics]\nexclusion_margin_h = 1e300\n", "metrics.exclusion_margin_h", "from 0 to 8784"),
        ("[metrics]\nsmoothing_buckets = 0\n", "metrics.smoothing_buckets", "from 1 to 10000"),
        ("[metrics]\nsparse_min_posts = true\n", "metrics.sparse_min_posts", "from 0 to 1e+09"),
        ('[brands.acme]\n[brands.acme.alerts]\nsentiment_sd = nan\n', "brands.acme.alerts.sentiment_sd",
         "from 0 to 100"),
        ('[brands.acme]\n[brands.acme.alerts]\ncooldown_hours = inf\n', "brands.acme.alerts.cooldown_hours",
         "from 0 to 8784"),
        ('[brands.acme]\n[brands.acme.alerts]\nvolume_multiple = 1e20\n',
         "brands.acme.alerts.volume_multiple", "from 0 to 1e+06"),
        ("[alerts]\ntimeout = inf\n", "alerts.timeout", "from 0.1 to 600"),
        ("[alerts]\ntimeout = nan\n", "alerts.timeout", "from 0.1 to 600"),
        ("[alerts]\ntimeout = 0\n", "alerts.timeout", "from 0.1 to 600"),
    ],
)
def test_absurd_numbers_are_refused_naming_the_key_and_the_range(tmp_path, toml, named, allowed):
    (tmp_path / "dipwatch.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        settings_in(tmp_path)
    message = str(caught.value)
    assert f"{named}: expected a number {allowed}" in message
    assert str(tmp_path / "dipwatch.toml") in message


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[alerts]\ntimeout = "soon"\n', "alerts.timeout"),
        ("[alerts]\ntimeout = [1]\n", "alerts.timeout"),
        ('[alerts]\nstarttls = "yes"\n', "alerts.starttls"),
        ("[alerts]\nemail_from = 5\n", "alerts.email_from"),
        ("[alerts]\nsmtp_host = {}\n", "alerts.smtp_host"),
        ('[alerts]\ndashboard_url = ""\n', "alerts.dashboard_url"),
        ("[alerts]\nwebhook_url_env = 1\n", "alerts.webhook_url_env"),
        ("[alerts]\nsmtp_port = 70000\n", "alerts.smtp_port"),
        ("[alerts]\nretries = inf\n", "alerts.retries"),
        ('[alerts]\nemail_to = ["nobody"]\n', "alerts.email_to"),
        ("[alerts]\ncolour = 1\n", "alerts.colour"),
        ('[brands.acme]\n[brands.acme.alerts]\nsentiment_sdd = 2\n', "brands.acme.alerts.sentiment_sdd"),
        ('[brands.acme]\n[brands.acme.alerts]\nenabled = "no"\n', "brands.acme.alerts.enabled"),
    ],
)
def test_every_alerts_error_names_its_key(tmp_path, toml, named):
    (tmp_path / "dipwatch.toml").write_text(toml)
    with pytest.raises(ConfigError, match=rf"dipwatch\.toml: {re.escape(named)}: "):
        settings_in(tmp_path)


def test_numbers_at_the_ends_of_their_ranges_are_kept(tmp_path):
    (tmp_path / "dipwatch.toml").write_text(
        "[metrics]\nbaseline_days = 366\nrecovery_sd = 0\nrecovery_hold_h = 8784\n[alerts]\ntimeout = 600\n")
    settings = settings_in(tmp_path)
    assert (settings.metrics.baseline_days, settings.metrics.recovery_sd) == (366, 0)
    assert settings.alerts["timeout"] == 600
