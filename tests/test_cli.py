"""The dipwatch command line through CliRunner, on a real SQLite database in tmp_path."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sentiment import score_text, scorer_id
from dipwatch.jobs.output import atomic_output
from dipwatch.store import Store

GOOD = (
    "id,created_at,text,author\n"
    "p1,2026-03-01T10:00:00Z,Acme is down,alice\n"
    "p2,2026-03-01T11:00:00+01:00,Acme app update,bob\n"
    "p3,1772366400,Acme store on the high street,\n"
)
ACME_TOML = """\
[brands.acme]
terms = ["Acme", "Acme Retail"]
exclude = ["acme anvil"]
"""
REPORT_FIELDS = {
    "outage_id", "label", "start", "end", "baseline_mean", "baseline_sd", "trough", "trough_at",
    "dip_depth", "dip_depth_sd", "time_to_trough_h", "recovered_at", "time_to_recover_h",
    "sentiment_hours_lost", "volume_lift", "negative_share_baseline", "negative_share_during",
    "posts_during", "sparse",
}


def count_posts(db_path: Path) -> int:
    with Store(f"sqlite:///{db_path}") as store:
        return store.count_posts()


@pytest.fixture
def imported(cli_run, write):
    """A database holding GOOD for brand acme (a brand created by the import)."""
    write("good.csv", GOOD)
    result = cli_run(["import", "good.csv", "--brand", "acme"])
    assert result.exit_code == 0, result.output
    return result


def export_rows(cli_run, *args: str) -> list[dict]:
    result = cli_run(["export", "posts", "--brand", "acme", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


# --- bad input: exit 2, a message naming where and what was expected, nothing changed -----------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,text\nx,Acme\n",
         ["bad.csv:1: missing required column 'created_at'; expected id, created_at, text"]),
        ("", ["bad.csv: file is empty: expected a CSV header or JSON lines"]),
        (b"id,created_at,text\n\x00\x00\x01\x02",
         ["bad.csv: binary file (contains NUL bytes): expected CSV or JSON Lines text"]),
        ("id,created_at,text\nx1,2026-03-01T10:00:00Z,Acme\n".encode("utf-16"),
         ["bad.csv: file is UTF-16: expected UTF-8"]),
        ("id,created_at,text\nx1,2026-03-01T10:00:00Z,Acme ok\nx2,last tuesday,Acme down\n",
         ["bad.csv:3: rejected: created_at: 'last tuesday' is not a date; expected ISO 8601",
          "bad.csv: 1 rows rejected; nothing was imported"]),
        ("id,created_at,text\nx1,2026-03-01T10:00:00,Acme down\n",
         ["bad.csv:2: rejected: created_at: '2026-03-01T10:00:00' has no UTC offset; "
          "add one (Z, +01:00) or pass --tz ZONE"]),
        ("id,created_at,text\nx1,2026-03-01T10:00:00Z,Acme a\nx1,2026-03-01T11:00:00Z,Acme b\n",
         ["bad.csv:3: rejected: duplicate id 'x1' (first on line 2)"]),
    ],
    ids=["missing-column", "empty", "binary", "utf-16", "bad-date", "naive-date", "duplicate-id"],
)
def test_bad_import_exits_2_names_the_problem_and_changes_nothing(
    cli_run, write, db_path, db_url, dump, imported, content, expected
):
    write("bad.csv", content)
    before, count = dump(db_url), count_posts(db_path)
    result = cli_run(["import", "bad.csv", "--brand", "newbrand"])
    assert result.exit_code == 2
    for fragment in expected:
        assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert count_posts(db_path) == count
    assert dump(db_url) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "--brand", "nope"], "--brand: unknown brand 'nope'; known brands: acme"),
        (["outages", "add", "--brand", "nope", "--start", "2026-03-01T10:00:00Z", "--label", "x"],
         "brand: unknown brand 'nope'; known brands: acme"),
        (["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00Z",
          "--end", "2026-03-01T09:00:00Z", "--label", "x"],
         "end: 2026-03-01T09:00:00+00:00 is not after start 2026-03-01T10:00:00+00:00"),
        (["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00", "--label", "x"],
         "start: '2026-03-01T10:00:00' has no UTC offset"),
        (["import", "good.csv", "--brand", "acme", "--tz", "Not/AZone"],
         "unknown time zone 'Not/AZone'; expected an IANA name like Europe/London"),
        (["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00", "--label", "x",
          "--tz", "Not/AZone"], "unknown time zone 'Not/AZone'"),
        (["import", "good.csv", "--brand", "acme", "--source", "My Source"], "--source: "),
        (["export", "posts", "--brand", "acme", "--from", "2026-03-02", "--to", "2026-03-01"],
         "--to: must be after --from"),
        (["outages", "remove", "99"], "OUTAGE_ID: no outage with id 99"),
        (["export", "posts", "--brand", "acme", "--format", "parquet"],
         "--format parquet: needs -o FILE"),
        (["export", "posts", "--brand", "nope"], "--brand: unknown brand 'nope'"),
    ],
    ids=["report-unknown-brand", "outage-unknown-brand", "outage-end-before-start", "outage-naive",
         "import-bad-tz", "outage-bad-tz", "import-bad-source", "export-backwards", "remove-missing",
         "parquet-to-stdout", "export-unknown-brand"],
)
def test_bad_command_exits_2_and_changes_nothing(cli_run, db_url, dump, imported, args, expected):
    before = dump(db_url)
    result = cli_run(args)
    assert result.exit_code == 2
    assert f"Error: {expected}" in result.stderr
    assert "Traceback" not in result.output
    assert dump(db_url) == before


def test_outage_import_with_end_before_start_names_the_line_and_imports_nothing(
    cli_run, write, db_url, dump, imported
):
    write("outages.csv", "brand,start,end,label\n"
                         "acme,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z,fine\n"
                         "acme,2026-03-02T10:00:00Z,2026-03-02T09:00:00Z,backwards\n")
    before = dump(db_url)
    result = cli_run(["outages", "import", "outages.csv"])
    assert result.exit_code == 2
    assert "Error: outages.csv:3: end: 2026-03-02T09:00:00+00:00 is not after start" in result.stderr
    assert dump(db_url) == before


# --- import ----------------------------------------------------------------------------------------


def test_import_prints_counts_and_reimport_stores_nothing_new(cli_run, write, db_url, dump):
    write("good.csv", GOOD)
    first = cli_run(["import", "good.csv", "--brand", "acme"])
    assert first.exit_code == 0
    assert "read: 3, new: 3, already stored: 0, unmatched: 0, rejected: 0" in first.stdout
    before = dump(db_url)["posts"]
    again = cli_run(["import", "good.csv", "--brand", "acme"])
    assert again.exit_code == 0
    assert "read: 3, new: 0, already stored: 3" in again.stdout
    assert dump(db_url)["posts"] == before


def test_import_match_keeps_only_rows_mentioning_the_brand(cli_run, write, tmp_path):
    (tmp_path / "dipwatch.toml").write_text(ACME_TOML)
    write("mixed.csv", "id,created_at,text\n"
                       "m1,2026-03-01T10:00:00Z,ACME RETAIL app down\n"
                       "m2,2026-03-01T10:05:00Z,my acmeish thing\n"
                       "m3,2026-03-01T10:10:00Z,bought an acme anvil\n"
                       "m4,2026-03-01T10:15:00Z,acme checkout broken\n")
    result = cli_run(["import", "mixed.csv", "--brand", "acme", "--match"])
    assert result.exit_code == 0
    assert "read: 4, new: 2, already stored: 0, unmatched: 2, rejected: 0" in result.stdout
    rows = export_rows(cli_run)
    assert [(r["post_id"], r["term"]) for r in rows] == [("m1", "Acme Retail"), ("m4", "Acme")]


def test_import_skip_bad_stores_good_rows_and_lists_rejected(cli_run, write, db_path):
    write("some.csv", "id,created_at,text\n"
                      "s1,2026-03-01T10:00:00Z,Acme one\n"
                      "s2,someday,Acme two\n"
                      "s3,2026-03-01T11:00:00Z,Acme three\n"
                      "s4,2026-03-01T12:00:00Z,\n")
    result = cli_run(["import", "some.csv", "--brand", "acme", "--skip-bad"])
    assert result.exit_code == 0
    assert "read: 4, new: 2, already stored: 0, unmatched: 0, rejected: 2" in result.stdout
    assert "some.csv:3: rejected: created_at: 'someday' is not a date" in result.stderr
    assert "some.csv:5: rejected: text: missing or empty" in result.stderr
    assert count_posts(db_path) == 2


def test_import_with_tz_stores_utc(cli_run, write):
    write("local.csv", "id,created_at,text\nl1,2026-07-01T12:00:00,Acme summer\n")
    result = cli_run(["import", "local.csv", "--brand", "acme", "--tz", "Europe/London"])
    assert result.exit_code == 0, result.output
    assert export_rows(cli_run)[0]["created_at"] == "2026-07-01T11:00:00Z"


def test_brand_created_by_import_is_known_to_brands_and_report(cli_run, write):
    write("good.csv", GOOD)
    result = cli_run(["import", "good.csv", "--brand", "Globex"])
    assert result.exit_code == 0
    assert "New brand 'globex'" in result.stdout
    listed = cli_run(["brands"])
    assert listed.stdout.splitlines() == ["globex\timport\t3 posts\tterms: Globex"]
    report = cli_run(["report", "--brand", "GLOBEX"])
    assert report.exit_code == 0
    assert "globex: no outage windows yet" in report.stdout


# --- outages -------------------------------------------------------------------------------------


def test_outage_import_keeps_overlapping_windows_and_notes_them(cli_run, write, imported):
    write("outages.csv", "brand,start,end,label,severity\n"
                         "acme,2026-03-01T10:00:00Z,2026-03-01T14:00:00Z,checkout,major\n"
                         "acme,2026-03-01T12:00:00Z,2026-03-01T16:00:00Z,app,minor\n")
    result = cli_run(["outages", "import", "outages.csv"])
    assert result.exit_code == 0
    assert "Imported 2 outage windows from outages.csv." in result.stdout
    assert "Note: outage 1 (checkout) overlaps outage 2 (app); both are kept." in result.stderr
    listed = json.loads(cli_run(["outages", "list", "--json"]).stdout)
    assert [(o["label"], o["severity"], o["origin"]) for o in listed] == [
        ("checkout", "major", "import"), ("app", "minor", "import")]


def test_outages_list_json_round_trips(cli_run, imported):
    added = cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T11:00:00+01:00",
                     "--end", "2026-03-01T13:30:00Z", "--label", "checkout down", "--severity", "Major"])
    assert added.exit_code == 0
    assert "Added outage 1: acme checkout down" in added.stdout
    assert cli_run(["outages", "add", "--brand", "acme", "--start", "1772460000",
                    "--label", "app down"]).exit_code == 0
    listed = cli_run(["outages", "list", "--brand", "ACME", "--json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == [
        {"id": 1, "brand": "acme", "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T13:30:00Z",
         "label": "checkout down", "severity": "major", "origin": "manual", "external_id": None},
        {"id": 2, "brand": "acme", "start": "2026-03-02T14:00:00Z", "end": None,
         "label": "app down", "severity": "unknown", "origin": "manual", "external_id": None},
    ]
    assert datetime.fromisoformat(json.loads(listed.stdout)[0]["start"]).utcoffset().total_seconds() == 0


def test_outages_remove(cli_run, imported):
    cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00Z", "--label", "x"])
    removed = cli_run(["outages", "remove", "1"])
    assert removed.exit_code == 0
    assert "Removed outage 1." in removed.stdout
    assert json.loads(cli_run(["outages", "list", "--json"]).stdout) == []
    assert cli_run(["outages", "remove", "1"]).exit_code == 2


def test_labels_are_printed_without_terminal_escape_sequences(cli_run, imported):
    """A label from a CSV, a status page or the dashboard cannot retitle the terminal, recolour it,
    hide text or plant a hyperlink when the CLI prints it; JSON output keeps it exactly."""
    label = ("\x1b]0;pwned\x07\x1b[8mhidden\x1b[0m \x1b]8;;https://evil.example\x1b\\site\x1b]8;;\x1b\\"
             " down\x9b2J\x00")
    added = cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T10:00:00Z", "--end",
                     "2026-03-01T11:00:00Z", "--label", label])
    assert added.exit_code == 0, added.output
    listed = cli_run(["outages", "list"])
    reported = cli_run(["report", "--brand", "acme"])
    for result in (added, listed, reported):
        assert "hidden site down" in result.stdout
        assert not any(c in result.stdout for c in "\x1b\x07\x9b\x00"), repr(result.stdout)
    assert json.loads(cli_run(["outages", "list", "--json"]).stdout)[0]["label"] == label


# --- report --------------------------------------------------------------------------------------


def test_report_json_has_the_issues_fields(cli_run, imported):
    cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T09:00:00Z",
             "--end", "2026-03-01T12:00:00Z", "--label", "checkout down"])
    result = cli_run(["report", "--brand", "acme", "--json"])
    assert result.exit_code == 0
    (record,) = json.loads(result.stdout)
    assert set(record) >= REPORT_FIELDS
    assert (record["outage_id"], record["label"], record["start"], record["end"]) == (
        1, "checkout down", "2026-03-01T09:00:00Z", "2026-03-01T12:00:00Z")
    assert record["posts_during"] == 2  # p3 at 12:00 is at the window's (exclusive) end
    assert record["sparse"] is True


def test_report_for_a_missing_outage_exits_2(cli_run, imported):
    result = cli_run(["report", "--brand", "acme", "--outage", "7"])
    assert result.exit_code == 2
    assert "--outage: brand 'acme' has no outage 7" in result.stderr


# --- export --------------------------------------------------------------------------------------


def test_export_posts_whole_csv_text(cli_run, write):
    write("tiny.csv", "id,created_at,text,url\n"
                      "t2,2026-03-01T12:00:00+01:00,\"Acme store, high street\",https://x.test/t2\n"
                      "t1,2026-03-01T10:00:00Z,Acme app update,\n"
                      "t0,2026-02-28T10:00:00Z,Acme before the window,\n")
    assert cli_run(["import", "tiny.csv", "--brand", "acme"]).exit_code == 0
    scorer = scorer_id()
    result = cli_run(["export", "posts", "--brand", "acme", "--from", "2026-03-01"])
    assert result.exit_code == 0
    def model(text):  # the classifier's probabilities, as exported: 4 places, and its class
        score = score_text(text)
        return (f"{round(score.p_negative, 4)},{round(score.p_neutral, 4)},{round(score.p_positive, 4)},"
                f"{score.sentiment_class}")

    assert result.stdout == (
        "source,post_id,kind,created_at,brand,term,text,url,author_hash,engagement,rating,"
        "compound,pos,neu,neg,label,scorer,p_negative,p_neutral,p_positive,class\n"
        f"file,t1,post,2026-03-01T10:00:00Z,acme,acme,Acme app update,,,,,0.0,0.0,1.0,0.0,neutral,{scorer},"
        f"{model('Acme app update')}\n"
        f'file,t2,post,2026-03-01T11:00:00Z,acme,acme,"Acme store, high street",https://x.test/t2,,,,'
        f"0.0,0.0,1.0,0.0,neutral,{scorer},{model('Acme store, high street')}\n"
    )
    assert model("Acme app update").endswith(",neutral")


def test_export_posts_has_the_documented_columns_and_utc_times(cli_run, imported):
    rows = export_rows(cli_run)
    required = ["source", "post_id", "created_at", "text", "url", "compound", "pos", "neu", "neg",
                "label", "scorer"]
    assert set(required) <= set(rows[0])
    assert [r["created_at"] for r in rows] == [
        "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z"]
    assert [r["post_id"] for r in rows] == ["p1", "p2", "p3"]
    assert rows[0]["label"] == "negative"
    assert float(rows[0]["compound"]) < 0


FORMULAS = ['=HYPERLINK("http://evil.test","click")', "+1 for Acme", "-2 stars", "@x Acme",
            "\tAcme", "  =1"]


def test_export_csv_neutralises_formula_cells_but_not_numbers(cli_run, write):
    lines = [{"id": f"f{i}", "created_at": 1772366400 + i, "text": text}
             for i, text in enumerate([*FORMULAS, "Acme is down"])]
    write("formulas.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    assert cli_run(["import", "formulas.jsonl", "--brand", "acme"]).exit_code == 0
    rows = export_rows(cli_run)
    texts = {r["post_id"]: r["text"] for r in rows}
    for i, text in enumerate(FORMULAS):
        assert texts[f"f{i}"] == "'" + text
    assert texts[f"f{len(FORMULAS)}"] == "Acme is down"
    negative = next(r for r in rows if r["text"] == "Acme is down")
    assert negative["compound"].startswith("-")
    assert float(negative["compound"]) < 0
    for row in rows:
        for column in ("compound", "pos", "neu", "neg"):
            float(row[column])  # a number, never a "'"-prefixed string


def test_export_to_file_is_atomic_and_leaves_no_part_file(cli_run, imported, tmp_path):
    result = cli_run(["export", "posts", "--brand", "acme", "-o", "out.csv"])
    assert result.exit_code == 0
    assert "Wrote 3 rows to out.csv." in result.stderr
    assert result.stdout == ""
    on_stdout = cli_run(["export", "posts", "--brand", "acme"]).stdout
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == on_stdout
    assert not list(tmp_path.glob("*.part"))
    assert not list(tmp_path.glob(".*.part"))


def test_export_parquet_has_the_same_rows(cli_run, imported, tmp_path):
    result = cli_run(["export", "posts", "--brand", "acme", "--format", "parquet", "-o", "x.parquet"])
    assert result.exit_code == 0
    frame = pd.read_parquet(tmp_path / "x.parquet")
    rows = export_rows(cli_run)
    assert list(frame.columns) == list(rows[0])
    assert list(frame["post_id"]) == [r["post_id"] for r in rows]
    assert utc_times(frame["created_at"])  # a time, not text
    assert [t.isoformat().replace("+00:00", "Z") for t in frame["created_at"]] == [
        r["created_at"] for r in rows]
    assert list(frame["text"]) == ["Acme is down", "Acme app update", "Acme store on the high street"]
    assert list(frame["compound"]) == [float(r["compound"]) for r in rows]
    assert not list(tmp_path.glob(".*.part"))


def utc_times(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.DatetimeTZDtype) and str(column.dtype.tz) == "UTC"


@pytest.mark.parametrize("kind", ["posts", "timeline", "outages"])
def test_each_export_reads_the_same_from_csv_and_parquet(cli_run, imported, tmp_path, kind):
    """What an analyst loads with pandas: the same table from either format; in Parquet, times are
    UTC timestamp columns and an empty column keeps its type."""
    if kind == "outages":
        assert cli_run(["outages", "add", "--brand", "acme", "--start", "2026-03-01T09:00:00Z",
                        "--label", "down"]).exit_code == 0
    base = ["export", kind, "--brand", "acme"]
    assert cli_run([*base, "-o", "x.csv"]).exit_code == 0
    assert cli_run([*base, "-o", "x.parquet"]).exit_code == 0
    parquet = pd.read_parquet(tmp_path / "x.parquet")
    text = pd.read_csv(tmp_path / "x.csv", dtype=str, keep_default_na=False)
    assert list(parquet.columns) == list(text.columns)
    assert len(parquet) == len(text) > 0
    times = [c for c in parquet.columns if utc_times(parquet[c])]
    assert times == {"posts": ["created_at"], "timeline": ["bucket"],
                     "outages": ["start", "end", "trough_at", "recovered_at", "share_peak_at",
                                 "share_recovered_at", "last_post_at"]}[kind]
    for column in parquet.columns:
        for got, want in zip(parquet[column], text[column], strict=True):
            if want == "":
                assert pd.isna(got), (column, got)
            elif column in times:
                assert got == pd.Timestamp(want), (column, got, want)
                assert str(got.tz) == "UTC"
            elif isinstance(got, bool | np.bool_):
                assert str(got) == want, (column, got, want)
            elif isinstance(got, float | int | np.number):
                assert float(got) == pytest.approx(float(want)), (column, got, want)
            else:
                assert str(got) == want, (column, got, want)
    if kind == "posts":  # no post has a rating: the column is still a whole number in Parquet
        import pyarrow.parquet as pq

        schema = pq.read_schema(tmp_path / "x.parquet")
        assert text["rating"].eq("").all()
        assert str(schema.field("rating").type) == "int64"
        assert str(schema.field("created_at").type).endswith("tz=UTC]")  # Parquet keeps ms, not s
    if kind == "outages":  # ongoing: every end-related column is empty, and still typed
        assert utc_times(parquet["end"])
        assert utc_times(parquet["recovered_at"])
        assert str(parquet["time_to_recover_h"].dtype) == "float64"


def write_half_then_fail(target: Path) -> None:
    with atomic_output(target) as fh:
        fh.write("new,half")
        fh.flush()
        raise RuntimeError("disk gone")


def test_atomic_output_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("old,contents\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk gone"):
        write_half_then_fail(target)
    assert target.read_text(encoding="utf-8") == "old,contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_atomic_output_replaces_the_file_on_success(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_output(target) as fh:
        fh.write("new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


# --- collect with nothing to collect: exit 2, naming the file looked for (issue 16, item 16) -------


def test_collect_without_a_config_file_exits_2_naming_the_file_it_looked_for(cli_run, tmp_path):
    # A cron job started in the wrong folder: it used to exit 0 and "succeed" forever.
    result = cli_run(["collect"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'dipwatch.toml'}: config file not found")
    assert "--config" in result.stderr


@pytest.mark.parametrize("args", [[], ["--source", "reddit"], ["--brand", "acme"]])
def test_collect_with_no_brand_that_has_a_source_exits_2_naming_the_config(cli_run, write, tmp_path, args):
    write("dipwatch.toml", ACME_TOML)
    result = cli_run(["collect", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'dipwatch.toml'}: no brand")
    assert "[brands.NAME.sources.SOURCE]" in result.stderr
