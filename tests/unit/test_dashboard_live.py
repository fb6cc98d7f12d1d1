"""A running dashboard sees brands imported after it started, and an edited dipwatch.toml, without a
restart: through its callbacks as the browser calls them (POST /_dash-update-component)."""

from __future__ import annotations

import os

from click.testing import CliRunner

from dashboard import ids
from dipwatch.core.config import SettingsWatch, load_settings

POSTS = ("id,created_at,text\n{p}1,2026-10-01T10:00:00Z,{name} site is down\n"
         "{p}2,2026-10-01T11:00:00Z,{name} ok\n")


def import_posts(db_url: str, tmp_path, brand: str) -> None:
    """``dipwatch import`` in-process, as another process would while the dashboard runs."""
    from dipwatch.cli.main import cli

    path = tmp_path / f"{brand}.csv"
    path.write_text(POSTS.format(p=brand, name=brand.title()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(path), "--brand", brand.title(), "--db", db_url],
                                env={"DIPWATCH_CONFIG": ""})
    assert result.exit_code == 0, result.output


def open_url(app, search: str) -> dict:
    """What the page's state callback answers when the browser opens ``/{search}``."""
    key, spec = next((k, v) for k, v in app.callback_map.items() if f"{ids.BRAND}.options" in k)
    defaults = {(ids.URL, "search"): search, (ids.BRAND, "value"): None, (ids.PERIOD, "value"): "outage",
                (ids.BUCKET, "value"): "1h", (ids.TABS, "value"): "overview"}
    payload = {"output": key,
               "outputs": [{"id": o.component_id, "property": o.component_property} for o in spec["output"]],
               "inputs": [{**i, "value": defaults.get((i["id"], i["property"]))} for i in spec["inputs"]],
               "state": [{**s, "value": None} for s in spec["state"]],
               "changedPropIds": [f"{ids.URL}.search"]}
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return response.get_json()["response"]


def shown_brand(answer: dict) -> tuple[str, list[str]]:
    """The brand the page selects (its URL's) and the brands its dropdown lists."""
    brand = answer[ids.BRAND]
    return brand.get("value"), [o["label"] for o in brand["options"]]


def test_a_brand_imported_after_start_up_opens_by_its_url(sqlite_store, db_url, tmp_path):
    from dashboard.app import create_app
    from dipwatch.core.config import Settings

    import_posts(db_url, tmp_path, "acme")
    app = create_app(Settings(db_url=db_url), sqlite_store, env={})
    missing = open_url(app, "?brand=globex")
    assert shown_brand(missing) == ("acme", ["Acme"])  # not there yet, and the page says so
    assert missing[ids.BRAND_NOTE]["children"] == (
        "This link names the brand 'globex', which this database does not hold: showing Acme instead.")
    import_posts(db_url, tmp_path, "globex")
    answer = open_url(app, "?brand=globex")
    assert shown_brand(answer) == ("globex", ["Acme", "Globex"])
    assert answer[ids.BRAND_NOTE]["children"] is None
    assert ids.URL not in answer  # the link stays as it was: it named the brand shown


def test_an_edited_config_applies_without_a_restart(sqlite_store, db_url, tmp_path, monkeypatch):
    from dashboard import app as dashboard_app
    from dashboard.app import create_app

    monkeypatch.setattr(dashboard_app, "CONFIG_CHECK_SECONDS", 0.0)
    config = tmp_path / "dipwatch.toml"
    config.write_text('[brands.acme]\nname = "Acme"\n', encoding="utf-8")
    settings = load_settings(db=db_url, config=config, env={})
    app = create_app(settings, sqlite_store, env={})
    assert shown_brand(open_url(app, "?brand=initech")) == ("acme", ["Acme"])
    config.write_text('[brands.acme]\nname = "Acme Retail"\n[brands.initech]\nname = "Initech"\n',
                      encoding="utf-8")
    assert shown_brand(open_url(app, "?brand=initech")) == ("initech", ["Acme Retail", "Initech"])


def test_settings_watch_reads_an_edited_file_and_keeps_the_last_good_one(tmp_path):
    config = tmp_path / "dipwatch.toml"
    config.write_text('[brands.acme]\nname = "Acme"\n', encoding="utf-8")
    clock, warnings = [100.0], []
    watch = SettingsWatch(load_settings(db="sqlite:///x.db", config=config, env={}), interval=2.0,
                          warn=warnings.append, clock=lambda: clock[0])
    first = watch.current()
    config.write_text('[brands.acme]\nname = "Acme Two"\n', encoding="utf-8")
    os.utime(config, ns=(0, 1))  # a changed stamp even within the file system's time resolution
    assert watch.current() is first  # looked at most once every interval
    clock[0] += 2.5
    edited = watch.current()
    assert edited.brands["acme"].name == "Acme Two"
    assert edited.db_url == first.db_url
    config.write_text("[brands.acme\n", encoding="utf-8")  # a half-saved edit
    clock[0] += 2.5
    assert watch.current() is edited
    clock[0] += 2.5
    assert watch.current() is edited
    assert len(warnings) == 1
    assert str(config) in warnings[0]
    assert "keeping the settings read before" in warnings[0]
    config.unlink()
    clock[0] += 2.5
    assert watch.current() is edited
    assert "config file not found" in warnings[-1]


def test_without_a_config_file_there_is_nothing_to_watch():
    from dipwatch.core.config import Settings

    settings = Settings(db_url="sqlite:///x.db")
    assert SettingsWatch(settings, interval=0).current() is settings
