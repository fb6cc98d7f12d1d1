"""``dipwatch outages import-statuspage | detect | confirm`` through CliRunner on a tmp database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dipwatch.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "statuspage"
T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def posts_csv(days: int, spike_hour: int | None = None) -> str:
    """Three calm posts an hour for ``days`` days; 30 angry ones (30 authors) in ``spike_hour``."""
    lines = ["id,created_at,text,author"]
    for hour in range(days * 24):
        when = T0 + timedelta(hours=hour, minutes=10)
        for i in range(3):
            lines.append(f"h{hour}-{i},{when:%Y-%m-%dT%H:%M:%SZ},Acme order arrived today,user{i}")
        if hour == spike_hour:
            lines += [f"s{i},{when:%Y-%m-%dT%H:%M:%SZ},Acme website is down again. Terrible outage,angry{i}"
                      for i in range(30)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def acme(cli_run, write):
    """A brand 'acme' that the store knows (one imported post)."""
    write("one.csv", "id,created_at,text\np1,2026-03-01T10:00:00Z,Acme hello\n")
    assert cli_run(["import", "one.csv", "--brand", "acme"]).exit_code == 0


def outages(db_path: Path):
    with Store(f"sqlite:///{db_path}") as store:
        return store.list_outages(), {o.id: store.outage_phases(o.id) for o in store.list_outages()}


def test_import_statuspage_then_reimport_updates_instead_of_duplicating(cli_run, db_path, acme):
    first = cli_run(["outages", "import-statuspage", FIXTURES / "incidents.json", "--brand", "acme"])
    assert first.exit_code == 0, first.output
    assert "Imported 2 incidents" in first.output
    assert "2 new" in first.output
    windows, phases = outages(db_path)
    by_id = {w.external_id: w for w in windows}
    checkout = by_id["inc1resolved01"]
    assert (checkout.start, checkout.end) == (datetime(2026, 3, 1, 18, tzinfo=UTC),
                                              datetime(2026, 3, 1, 20, 15, 30, tzinfo=UTC))
    assert (checkout.severity, checkout.origin, checkout.label) == ("major", "statuspage",
                                                                    "Checkout unavailable")
    assert [status for status, _ in phases[checkout.id]] == [
        "investigating", "identified", "monitoring", "resolved"]
    assert by_id["inc2noimpact2"].end is None

    # the same file again, then a later summary.json of the open incident: updated in place
    again = cli_run(["outages", "import-statuspage", FIXTURES / "incidents.json", "--brand", "acme"])
    assert "0 new, 2 updated" in again.output
    later = cli_run(["outages", "import-statuspage", FIXTURES / "summary.json", "--brand", "acme"])
    assert later.exit_code == 0, later.output
    windows, phases = outages(db_path)
    assert len(windows) == 2
    logins = next(w for w in windows if w.external_id == "inc2noimpact2")
    assert logins.id == by_id["inc2noimpact2"].id
    assert (logins.label, logins.severity, logins.end) == ("Slow logins for some customers", "minor", None)
    assert [status for status, _ in phases[logins.id]] == ["investigating", "monitoring"]


@pytest.mark.parametrize(("content", "expected"), [
    ("not json at all", "bad.json: not JSON"),
    ('{"status": {"indicator": "none"}}', "bad.json: incidents: missing"),
    (json.dumps({"incidents": [{"id": "x1", "name": "Down", "impact": "major", "created_at": None}]}),
     "incidents[0] (id x1).started_at: missing, and no created_at"),
])
def test_bad_statuspage_file_exits_2_names_the_field_and_writes_nothing(
        cli_run, write, db_url, dump, acme, content, expected):
    write("bad.json", content)
    before = dump(db_url)
    result = cli_run(["outages", "import-statuspage", "bad.json", "--brand", "acme"])
    assert result.exit_code == 2
    assert expected in result.output
    assert dump(db_url) == before


def test_statuspage_for_an_unknown_brand_exits_2(cli_run, db_url, dump, acme):
    before = dump(db_url)
    result = cli_run(["outages", "import-statuspage", FIXTURES / "incidents.json", "--brand", "nobody"])
    assert result.exit_code == 2
    assert "brand: unknown brand 'nobody'" in result.output
    assert dump(db_url) == before


def test_detect_on_under_7_days_exits_2_and_writes_nothing(cli_run, write, db_url, dump):
    write("posts.csv", posts_csv(days=3))
    assert cli_run(["import", "posts.csv", "--brand", "acme"]).exit_code == 0
    before = dump(db_url)
    result = cli_run(["outages", "detect", "--brand", "acme"])
    assert result.exit_code == 2
    assert "--brand acme: outage detection needs at least 7 days" in result.output
    assert dump(db_url) == before


def test_detect_stores_a_candidate_that_counts_only_once_confirmed(cli_run, write, db_path):
    spike = 8 * 24 + 18  # Tuesday of the second week, 18:00
    write("posts.csv", posts_csv(days=9, spike_hour=spike))
    assert cli_run(["import", "posts.csv", "--brand", "acme"]).exit_code == 0
    result = cli_run(["outages", "detect", "--brand", "acme"])
    assert result.exit_code == 0, result.output
    assert "1 candidate windows" in result.output
    (candidate,), _ = outages(db_path)
    start = T0 + timedelta(hours=spike)
    assert (candidate.start, candidate.end, candidate.origin) == (start, start + timedelta(hours=1),
                                                                  "detected")
    # 33 posts against the usual 3 with spread sqrt(3): score (33 - 3) / 1.732 = 17.3
    assert "score 17.3" in result.output
    assert candidate.label.startswith("detected: 33 posts vs usual 3")

    # running again updates the same candidate
    again = cli_run(["outages", "detect", "--brand", "acme"])
    assert f"{candidate.id}\tupdated" in again.output
    assert len(outages(db_path)[0]) == 1

    confirmed = cli_run(["outages", "confirm", candidate.id])
    assert confirmed.exit_code == 0, confirmed.output
    (window,), _ = outages(db_path)
    assert window.origin == "confirmed"
    # a confirmed window is known: detection neither proposes nor changes it again
    third = cli_run(["outages", "detect", "--brand", "acme"])
    assert "1 overlap known outages" in third.output
    assert outages(db_path)[0][0].origin == "confirmed"


def test_confirm_refuses_what_is_not_a_candidate(cli_run, acme):
    cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00Z", "--label", "x"])
    manual = cli_run(["outages", "confirm", "1"])
    assert manual.exit_code == 2
    assert "outage 1 is not a detected candidate (origin manual)" in manual.output
    missing = cli_run(["outages", "confirm", "99"])
    assert missing.exit_code == 2
    assert "no outage with id 99" in missing.output


def test_detect_says_which_candidates_fall_in_a_competitors_outage(cli_run, db_url, db_path):
    # In the demo, Shopwell's posts rise on Brightmart's outage days (people comparing the two):
    # detection proposes those hours for Shopwell, and must say whose outage they fall in.
    from dipwatch.jobs.demo import build_demo

    with Store(db_url) as store:
        build_demo(store)
    result = cli_run(["outages", "detect", "--brand", "shopwell"])
    assert result.exit_code == 0, result.output
    flagged = [line for line in result.output.splitlines() if "\tcoincides with Brightmart's outage" in line]
    assert flagged, result.output
    assert f"{len(flagged)} of them fall in an outage of a related brand" in result.output
    stored, _ = outages(db_path)
    labelled = [w for w in stored
                if w.origin == "detected" and "coincides with Brightmart's outage" in w.label]
    assert len(labelled) == len(flagged)
