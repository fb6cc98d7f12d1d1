"""Spreadsheet formulas: every CSV export path neutralises cells a spreadsheet would run.

The rule tested (OWASP "CSV Injection"): Excel, LibreOffice and Google Sheets evaluate a cell whose
FIRST character is ``=``, ``+``, ``-`` or ``@`` (leading spaces are skipped, so they do not protect a
cell), and some importers also start a formula at a leading tab or carriage return. A later line of a
quoted multi-line cell is not evaluated ("ok\\n=HYPERLINK(...)" stays text), so only the start of a
cell matters. Numbers written as numbers (a compound of -0.42) are values, not formulas. Every cell
of every export is read back with Python's csv module and checked; neutralised text must keep its
content after the ``'`` prefix.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import invoke

TRIGGERS = ("=", "+", "-", "@")
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?")
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+2", "-2+3", "@SUM(1,1)", "\t=1+1",
           "\r=1+1", "   =cmd|' /C calc'!A0", " \t+1", "=1\nok", "ok\n=HYPERLINK(\"http://x\")",
           "\"=quoted\"", "'=already", "Acme is down", "-", "=", "@"]
CONFIG = """\
[brands.evil]
name = "=HYPERLINK(\\"http://evil.example\\")"
terms = ["=HYPERLINK(\\"http://evil.example\\")", "@evil"]
"""


def starts_like_formula(cell: str) -> bool:
    return cell.lstrip(" ")[:1] in TRIGGERS or cell[:1] in ("\t", "\r")


def dangerous(cell: str) -> bool:
    """Whether a spreadsheet would run ``cell`` as a formula (see the module docstring)."""
    return not NUMBER.fullmatch(cell) and starts_like_formula(cell)


def check_csv(text: str, originals: set[str] = frozenset()) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows, "empty export"
    for row in rows:
        for cell in row:
            assert not dangerous(cell), f"formula cell in the export: {cell!r}"
            if cell.startswith("'") and cell[1:] in originals:
                # Over-protecting is harmless but shows text wrongly: only formula-like starts get a prefix.
                assert cell[1:].lstrip(" ")[:1] in (*TRIGGERS, "\t", "\r"), f"text was prefixed: {cell!r}"
    cells = {cell for row in rows for cell in row}
    for text_value in originals:
        assert text_value in cells or "'" + text_value in cells, f"{text_value!r} is missing from the export"
    return rows


def write_posts(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "created_at", "text", "url", "author"])
        for i, text in enumerate(texts):
            writer.writerow([f"f{i}", 1772366400 + 60 * i, text, text, text])
    return path


@contextmanager
def store_with(texts: list[str], outage_label: str = "=1+1") -> Iterator[Path]:
    """A directory with ``dipwatch.toml`` (a brand named like a formula), its posts and an outage."""
    with tempfile.TemporaryDirectory() as name:
        where = Path(name)
        (where / "dipwatch.toml").write_text(CONFIG, encoding="utf-8")
        write_posts(where / "in.csv", texts)
        for args in (["import", "in.csv", "--brand", "evil"],
                     ["outages", "add", "--brand", "evil", "--start", "2026-03-01T12:00:00Z",
                      "--end", "2026-03-01T13:00:00Z", "--label", outage_label]):
            result = invoke([*args, "--db", "t.db", "--config", "dipwatch.toml"], where)
            assert result.exit_code == 0, result.output
        yield where


def export(where: Path, kind: str, to_file: bool) -> str:
    args = ["export", kind, "--brand", "evil", "--db", "t.db", "--config", "dipwatch.toml"]
    result = invoke([*args, "-o", "out.csv"] if to_file else args, where)
    assert result.exit_code == 0, result.output
    # Bytes decoded as they are: read_text() would turn a CR inside a cell into a newline.
    return (where / "out.csv").read_bytes().decode("utf-8") if to_file else result.stdout


@pytest.fixture(scope="module")
def hostile_store() -> Iterator[Path]:
    with store_with(HOSTILE, outage_label="  @evil outage") as where:
        yield where


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_export_posts_neutralises_every_cell(hostile_store, to_file):
    rows = check_csv(export(hostile_store, "posts", to_file), set(HOSTILE))
    assert len(rows) == len(HOSTILE) + 1
    header = rows[0]
    # The term (the brand's name, a formula) and every text column are neutralised.
    assert {row[header.index("term")] for row in rows[1:]} == {"'=HYPERLINK(\"http://evil.example\")"}
    assert any(row[header.index("compound")].startswith("-") for row in rows[1:]), "no negative score"


@pytest.mark.parametrize("kind", ["timeline", "outages"])
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_export_timeline_and_outages_neutralise_every_cell(hostile_store, kind, to_file):
    rows = check_csv(export(hostile_store, kind, to_file))
    if kind == "outages":
        assert rows[1][rows[0].index("label")] == "'@evil outage"  # labels are stored stripped


def test_cell_with_a_lone_carriage_return_stays_one_cell(hostile_store):
    """A CR inside a cell must be quoted: unquoted, a reader (and a spreadsheet) splits the row there
    and the text after the CR starts a new row, its first cell unneutralised ("\\r=1+1" -> "=1+1")."""
    rows = list(csv.reader(io.StringIO(export(hostile_store, "posts", to_file=False), newline="")))
    assert len(rows) == len(HOSTILE) + 1
    assert {len(row) for row in rows} == {len(rows[0])}


def test_first_character_rule_keeps_later_lines_and_plain_text_as_they_are(hostile_store):
    rows = check_csv(export(hostile_store, "posts", to_file=False))
    texts = {row[rows[0].index("text")] for row in rows[1:]}
    assert "ok\n=HYPERLINK(\"http://x\")" in texts  # a later line is not evaluated: left as written
    assert "'=1\nok" in texts
    assert "Acme is down" in texts
    assert "''=already" not in texts  # a cell starting with ' is already text
    assert "'\t=1+1" in texts
    assert "'\r=1+1" in texts


def dashboard_downloads(where: Path) -> dict[str, str]:
    """Every CSV download of the dashboard, by file name, through the Dash callback endpoint as the
    browser calls it: each callback whose output is a ``dcc.Download``'s ``data``, its button clicked,
    brand ``evil`` and its outage chosen."""
    from dashboard.app import create_app
    from dipwatch.core.config import load_settings
    from dipwatch.store import Store

    settings = load_settings(db=str(where / "t.db"), config=str(where / "dipwatch.toml"))
    downloads = {}
    with Store(settings.db_url) as store:
        outage = store.list_outages("evil")[0]
        values = {"brand-dropdown": "evil", "outage-dropdown": outage.id, "bucket-radio": "1h"}
        client = create_app(settings, store).server.test_client()
        for dep in client.get("/_dash-dependencies").get_json():
            output = dep["output"]
            if output.startswith("..") or not output.endswith(".data") or "download" not in output:
                continue

            def filled(items):
                return [{**item, "value": 1 if item["property"] == "n_clicks" else values.get(item["id"])}
                        for item in items]

            target, prop = output.rsplit(".", 1)
            inputs = filled(dep["inputs"])
            body = {"output": output, "outputs": {"id": target, "property": prop}, "inputs": inputs,
                    "state": filled(dep.get("state", [])),
                    "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
            response = client.post("/_dash-update-component", data=json.dumps(body),
                                   content_type="application/json")
            assert response.status_code in (200, 204), f"{output}: HTTP {response.status_code}"
            data = (response.get_json() or {}).get("response", {}).get(target, {}).get(prop) \
                if response.status_code == 200 else None
            if data and data.get("filename", "").endswith(".csv") and not data.get("base64"):
                downloads[data["filename"]] = data["content"]
        # Voices' "Download all posts" is a link to a streamed CSV, not a callback: every post of
        # the brand, as the link the page builds would ask for them.
        from dashboard.voices import VoicesQuery, download_href

        query = VoicesQuery("evil", datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC),
                            "all time", (), None, "", "time", False)
        response = client.get(download_href(query, outage.id))
        assert response.status_code == 200, response.data[:200]
        downloads["voices download: posts"] = response.get_data(as_text=True)
    return downloads


def test_dashboard_downloads_neutralise_every_cell(hostile_store):
    downloads = dashboard_downloads(hostile_store)
    assert downloads, "the dashboard offers no CSV download"
    for name, content in downloads.items():
        rows = check_csv(content, set(HOSTILE) if "posts" in name else frozenset())
        if "posts" in name:
            assert len(rows) == len(HOSTILE) + 1, name
    assert any("posts" in name for name in downloads), f"no posts download among {sorted(downloads)}"


texts = st.builds(lambda lead, trigger, rest: lead + trigger + rest,
                  st.sampled_from(["", " ", "   ", "\t", "\r", "\n"]),
                  st.sampled_from([*TRIGGERS, "\t", "\r", "a"]),
                  st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                          max_size=40))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=st.lists(texts.filter(str.strip), min_size=1, max_size=8, unique=True))
def test_generated_texts_are_neutralised_in_every_export(values):
    with store_with(values, outage_label=values[0].strip() or "x") as where:
        originals = set(values)
        check_csv(export(where, "posts", to_file=True), originals)
        check_csv(export(where, "outages", to_file=False))
        for name, content in dashboard_downloads(where).items():
            check_csv(content, originals if "posts" in name else frozenset())
