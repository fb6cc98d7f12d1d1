"""`dipwatch report`: the headline and the competitor comparison, end to end on a small store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONFIG = """
[brands.acme]
terms = ["Acme"]
competitors = ["globex"]
[brands.globex]
terms = ["Globex"]
"""


def posts_csv(brand: str, baseline_text: str, outage_text: str) -> str:
    """Three days of 3 posts an hour, the last 6 hours in the outage text."""
    lines = ["id,created_at,text"]
    for hour in range(72):
        text = outage_text if hour >= 66 else baseline_text
        for i in range(3):
            when = (T0 + timedelta(hours=hour, minutes=10 * i)).isoformat()
            lines.append(f"{brand}-{hour}-{i},{when},{text}")
    return "\n".join(lines) + "\n"


def test_report_json_has_headline_and_competitor_difference(cli_run, write):
    write("dipwatch.toml", CONFIG)
    write("acme.csv", posts_csv("acme", "Acme is great and I love it", "Acme website is down and terrible"))
    write("globex.csv", posts_csv("globex", "Globex is fine and nice", "Globex is fine and nice"))
    assert cli_run(["import", "acme.csv", "--brand", "acme"]).exit_code == 0
    assert cli_run(["import", "globex.csv", "--brand", "globex"]).exit_code == 0
    start = (T0 + timedelta(hours=66)).isoformat()
    assert cli_run(["outages", "add", "--brand", "acme", "--start", start, "--label", "site down"]
                   ).exit_code == 0
    result = cli_run(["report", "--brand", "acme", "--json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["status"] == "ongoing"
    # Both families: the share leads the headline, the tone keeps its fields for analysts' scripts.
    assert record["headline"].startswith(f"{record['share_during'] * 100:.0f}% of posts negative during "
                                         f"the outage (normal {record['share_baseline'] * 100:.0f}%)")
    assert record["dip_depth"] > 0.5
    assert record["share_rise_pts"] > 50
    assert record["posts_during"] == 18
    assert record["voices_during"] == 18
    # The posts stopped long before now (the clock): no data, said so, never "quiet".
    assert record["share_status"] == "no data"
    assert "so nothing says whether it recovered" in record["headline"]
    (comparison,) = record["competitors"]
    assert comparison["competitor"] == "globex"
    assert comparison["competitor_change"] == 0.0  # globex said the same thing throughout
    assert comparison["did"] == comparison["brand_change"] < -0.5
    assert comparison["spillover"] is False
    text = cli_run(["report", "--brand", "acme"]).stdout
    assert "vs globex: difference in differences" in text


def test_report_and_export_carry_seeded_bootstrap_intervals(cli_run, write):
    write("dipwatch.toml", CONFIG)
    write("acme.csv", posts_csv("acme", "Acme is great and I love it", "Acme website is down and terrible"))
    assert cli_run(["import", "acme.csv", "--brand", "acme"]).exit_code == 0
    start = (T0 + timedelta(hours=66)).isoformat()
    assert cli_run(["outages", "add", "--brand", "acme", "--start", start, "--label", "down"]).exit_code == 0
    first = json.loads(cli_run(["report", "--brand", "acme", "--json", "--resamples", "50"]).stdout)[0]
    again = json.loads(cli_run(["report", "--brand", "acme", "--json", "--resamples", "50"]).stdout)[0]
    assert first["dip_depth_lo"] <= first["dip_depth"] <= first["dip_depth_hi"]
    assert first["trough_lo"] <= first["trough"] <= first["trough_hi"]
    assert (first["resamples"], first["interval_level"]) == (50, 0.95)
    assert first == again  # seeded: the same intervals every time
    other_seed = json.loads(cli_run(["report", "--brand", "acme", "--json", "--resamples", "50",
                                     "--seed", "7"]).stdout)[0]
    assert other_seed["dip_depth"] == first["dip_depth"]
    none = json.loads(cli_run(["report", "--brand", "acme", "--json", "--resamples", "0"]).stdout)[0]
    assert "dip_depth_lo" not in none
    exported = cli_run(["export", "outages", "--brand", "acme", "--resamples", "50"]).stdout.splitlines()
    header = exported[0].split(",")
    assert {"dip_depth_lo", "dip_depth_hi", "trough_lo", "trough_hi", "time_to_recover_h_lo"} <= set(header)
    row = dict(zip(header, exported[1].split(","), strict=False))
    assert float(row["dip_depth_lo"]) == first["dip_depth_lo"]
