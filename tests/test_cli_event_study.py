"""``dipwatch event-study`` through CliRunner on a small store of two brands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from analysis.sentiment import score_text

T0 = datetime(2026, 3, 2, tzinfo=UTC)
# Smoothing over one bucket and a one-day baseline, so every figure is a bucket mean worked out here.
CONFIG = """
[metrics]
smoothing_buckets = 1
baseline_days = 1
exclusion_margin_h = 0

[brands.acme]
terms = ["Acme"]
[brands.globex]
terms = ["Globex"]
"""
CALM = {"acme": "Acme is great and I love it", "globex": "Globex is fine"}
ANGRY = {"acme": "Acme website is down and terrible", "globex": "Globex payments are slow today"}


def posts_csv(brand: str, hours: int, angry: set[int]) -> str:
    """Three posts an hour for ``hours`` hours from T0, in the brand's angry text in ``angry`` hours."""
    lines = ["id,created_at,text"]
    for hour in range(hours):
        text = ANGRY[brand] if hour in angry else CALM[brand]
        for i in range(3):
            when = T0 + timedelta(hours=hour, minutes=10 * i)
            lines.append(f"{brand}-{hour}-{i},{when:%Y-%m-%dT%H:%M:%SZ},{text}")
    return "\n".join(lines) + "\n"


def at(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


@pytest.fixture
def two_brands(cli_run, write):
    """acme: calm for a day, angry hours 24-25, calm 26-29; its outage 24-26 and one at hour 0 (no
    baseline before it). globex: calm for a day, angry in hour 24, then nothing; its outage from 24."""
    write("dipwatch.toml", CONFIG)
    write("acme.csv", posts_csv("acme", 30, {24, 25}))
    write("globex.csv", posts_csv("globex", 25, {24}))
    for brand in ("acme", "globex"):
        assert cli_run(["import", f"{brand}.csv", "--brand", brand]).exit_code == 0
    for args in (["--brand", "acme", "--start", at(24), "--end", at(26), "--label", "site down"],
                 ["--brand", "acme", "--start", at(0), "--end", at(1), "--label", "too early"],
                 ["--brand", "globex", "--start", at(24), "--label", "payments slow"]):
        assert cli_run(["outages", "add", *args]).exit_code == 0
    return cli_run


def abnormal(brand: str) -> float:
    return score_text(ANGRY[brand]).compound - score_text(CALM[brand]).compound


def test_json_pools_both_brands_and_leaves_out_the_outage_with_no_baseline(two_brands):
    result = two_brands(["event-study", "--brand", "acme", "--brand", "Globex", "--hours", "8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["brands"] == ["acme", "globex"]
    assert [(o["brand"], o["label"]) for o in data["outages"]] == [("acme", "site down"),
                                                                 ("globex", "payments slow")]
    assert data["outages"][0]["baseline_mean"] == pytest.approx(score_text(CALM["acme"]).compound, abs=1e-4)
    assert [(s["brand"], s["label"]) for s in data["skipped"]] == [("acme", "too early")]
    assert "left out outage" in result.stderr
    assert "too early" in result.stderr
    rows = data["rows"]
    assert [r["hour"] for r in rows] == list(range(8))
    # globex has posts only in its first hour, acme in its first six (hours 24-29), then nothing.
    assert [r["outages"] for r in rows] == [2, 1, 1, 1, 1, 1, 0, 0]
    acme, globex = abnormal("acme"), abnormal("globex")
    assert acme < 0
    assert globex < 0
    assert acme != pytest.approx(globex)
    hour0 = rows[0]
    assert hour0["mean_abnormal"] == pytest.approx((acme + globex) / 2, abs=1e-4)
    # two outages, 200 resamples: the 2.5% and 97.5% ends are the outages themselves
    assert hour0["lo"] == pytest.approx(min(acme, globex), abs=1e-4)
    assert hour0["hi"] == pytest.approx(max(acme, globex), abs=1e-4)
    assert rows[1]["mean_abnormal"] == rows[1]["lo"] == rows[1]["hi"] == pytest.approx(acme, abs=1e-4)
    assert rows[2]["mean_abnormal"] == pytest.approx(0.0, abs=1e-4)  # back to its calm text
    assert rows[6]["mean_abnormal"] is None


def test_csv_is_one_row_per_hour(two_brands):
    result = two_brands(["event-study", "--brand", "acme", "--hours", "3", "--csv"])
    assert result.exit_code == 0, result.output
    value = round(abnormal("acme"), 4)
    assert result.stdout == (
        "hour,mean_abnormal,lo,hi,outages\n"
        f"0,{value},{value},{value},1\n"
        f"1,{value},{value},{value},1\n"
        "2,0.0,0.0,0.0,1\n"
    )


def test_text_table(two_brands):
    result = two_brands(["event-study", "--brand", "globex", "--hours", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Event study of 1 outages (globex)")
    assert lines[1].split() == ["hour", "mean", "lo", "hi", "outages"]
    value = f"{abnormal('globex'):+.3f}"
    assert lines[2].split() == ["0", value, value, value, "1"]
    assert lines[3].split() == ["1", "0"]


@pytest.mark.parametrize(("args", "message"), [
    (["--brand", "nobody"], "unknown brand 'nobody'"),
    (["--brand", "acme", "--json", "--csv"], "--json and --csv: choose one"),
])
def test_bad_input_exits_2(two_brands, args, message):
    result = two_brands(["event-study", *args])
    assert result.exit_code == 2
    assert message in result.stderr
