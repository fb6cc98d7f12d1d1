"""Hostile files: the CSV and JSONL importers, the outage file and the brands config.

Every input either imports (exit 0) or fails with exit 2 and one ``Error:`` line naming the file; no
traceback reaches the user, and on failure every table is exactly as before. Property-based cases
(hypothesis) explore random bytes and structured files built from hostile parts; the named cases pin
the outcome of each hostile input of issue 8. Wide headers use 100,000 columns (a million takes
about ten times as long for the same code path).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import assert_clean_outcome, dump, invoke

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE_TIMES = ["2026-03-01T10:00:00Z", "1772366400", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                 "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "-1", "-99999999999", "999999999999",
                 "1e300", "NaN", "Infinity", "-Infinity", "", "2026-02-30T00:00:00Z", "2026-03-01T10:00:00",
                 "\x00", "2026-03-01T10:00:00+25:00"]
HOSTILE_TEXT = ["Acme is down", "=HYPERLINK(\"http://x\")", "\x00", "\ud800", "é" * 3, "a\r\nb", "\"", "",
                "  ", "\u202e", "x" * 50_000]
NUMBERS = ["", "1", "-1", "NaN", "Infinity", "-Infinity", "1e400", "2.5", "99999999999999999999", "0x10"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1"]
NEWLINES = ["\n", "\r\n", "\r"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A database holding brand acme (3 posts) and one outage: what a failed command must not touch."""
    where = tmp_path_factory.mktemp("template")
    (where / "seed.csv").write_text("id,created_at,text\nt1,2026-03-01T10:00:00Z,Acme is down\n"
                                    "t2,2026-03-01T11:00:00Z,Acme is back\nt3,1772366400,Acme\n")
    result = invoke(["import", "seed.csv", "--brand", "acme", "--db", "t.db"], where)
    assert result.exit_code == 0, result.output
    (where / "o.csv").write_text("brand,start,end,label\nacme,2026-03-01T10:30:00Z,2026-03-01T11:00:00Z,x\n")
    result = invoke(["outages", "import", "o.csv", "--db", "t.db"], where)
    assert result.exit_code == 0, result.output
    return where / "t.db"


@contextmanager
def sandbox(template: Path) -> Iterator[Path]:
    """A fresh directory holding a copy of the template database as ``t.db``."""
    with tempfile.TemporaryDirectory() as name:
        where = Path(name)
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{template}{suffix}")
            if source.exists():
                shutil.copy(source, where / f"t.db{suffix}")
        yield where


def run_on_file(template: Path, name: str, content: bytes, args: list[str]):
    """Write ``content`` to ``name``, run ``dipwatch ARGS`` (``{file}`` replaced), check the outcome."""
    with sandbox(template) as where:
        (where / name).write_bytes(content)
        before = dump(where / "t.db")
        result = invoke([a.replace("{file}", name) for a in args] + ["--db", "t.db"], where)
        assert_clean_outcome(result)
        if result.exit_code == 2:
            error = next(line for line in result.output.splitlines() if line.startswith("Error:"))
            assert dump(where / "t.db") == before, f"a failed command changed the database ({error})"
            assert name in error, f"the error does not name the file: {error}"
        return result, dump(where / "t.db")


def import_file(template, name, content, *extra):
    return run_on_file(template, name, content, ["import", "{file}", "--brand", "acme", *extra])


def posts_of(tables) -> set[str]:
    # posts columns: id, source, post_id, ...
    return {row[2] for row in tables["posts"]}


# --- property-based -----------------------------------------------------------------------------


def csv_bytes(draw) -> bytes:
    header = draw(st.sampled_from(["id,created_at,text", "id,created_at,text,engagement,author",
                                   "ID , Created_At ,TEXT", "text,id", "\"id\",\"created_at\",\"text\""]))
    columns = header.count(",") + 1
    lines = [header]
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(st.sampled_from([f"r{draw(st.integers(0, 3))}", *HOSTILE_TIMES, *NUMBERS]))
                 for _ in range(columns)]
        if columns >= 3:
            cells[1] = draw(st.sampled_from(HOSTILE_TIMES))
            cells[2] = draw(st.sampled_from(HOSTILE_TEXT) | st.text(max_size=30))
        quoted = [f'"{c}"' if draw(st.booleans()) else c for c in cells]
        if draw(st.integers(0, 9)) == 0:
            quoted[-1] = '"never closed ' + quoted[-1]
        lines.append(",".join(quoted))
    newline = draw(st.sampled_from([*NEWLINES, "mixed"]))
    text = "".join(line + (draw(st.sampled_from(NEWLINES)) if newline == "mixed" else newline)
                   for line in lines)
    encoding = draw(st.sampled_from(ENCODINGS))
    # surrogatepass only exists for the UTF codecs; elsewhere a lone surrogate becomes "?".
    lone = "\ud800" in text and encoding.startswith("utf")
    return text.encode(encoding, errors="surrogatepass" if lone else "replace")


def jsonl_bytes(draw) -> bytes:
    nested = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=20)
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        row = {"id": draw(st.sampled_from(["j1", "j2", 3, 3.0, None, "", " ", "x" * 300]) | nested),
               "created_at": draw(st.sampled_from(HOSTILE_TIMES) | st.integers() | st.floats()),
               "text": draw(st.sampled_from(HOSTILE_TEXT) | nested),
               "engagement": draw(st.sampled_from(NUMBERS) | st.floats() | st.integers())}
        keys = draw(st.sets(st.sampled_from(list(row)), min_size=1))
        line = json.dumps({k: v for k, v in row.items() if k in keys})  # NaN/Infinity written as JS does
        if draw(st.integers(0, 9)) == 0:
            line = line[: draw(st.integers(0, len(line)))]
        lines.append(line)
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


@PROPERTY
@given(content=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".jsonl", ".txt"]))
def test_import_of_random_bytes(template, content, suffix):
    import_file(template, f"in{suffix}", content)


@PROPERTY
@given(data=st.data(), skip_bad=st.booleans())
def test_import_of_hostile_csv(template, data, skip_bad):
    import_file(template, "in.csv", csv_bytes(data.draw), *(["--skip-bad"] if skip_bad else []))


@PROPERTY
@given(data=st.data(), skip_bad=st.booleans())
def test_import_of_hostile_jsonl(template, data, skip_bad):
    import_file(template, "in.jsonl", jsonl_bytes(data.draw), *(["--skip-bad"] if skip_bad else []))


@PROPERTY
@given(data=st.data())
def test_outage_import_of_hostile_csv(template, data):
    draw = data.draw
    lines = [draw(st.sampled_from(["brand,start,end,label", "brand,start,end,label,severity",
                                   "Brand , START,end,label", "brand,start,label"]))]
    for _ in range(draw(st.integers(0, 4))):
        lines.append(",".join([draw(st.sampled_from(["acme", "ACME ", "nobody", ""])),
                               draw(st.sampled_from(HOSTILE_TIMES)), draw(st.sampled_from(HOSTILE_TIMES)),
                               draw(st.sampled_from(HOSTILE_TEXT[:8]) | st.text(max_size=20)),
                               draw(st.sampled_from(["major", "", "=1+1", "MINOR"]))]))
    text = draw(st.sampled_from(NEWLINES)).join(lines)
    content = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    run_on_file(template, "out.csv", content, ["outages", "import", "{file}"])


@PROPERTY
@given(content=st.binary(max_size=2000))
def test_outage_import_of_random_bytes(template, content):
    run_on_file(template, "out.csv", content, ["outages", "import", "{file}"])


TOML_PARTS = ["[brands.acme]\n", "[brands.\"=evil\"]\n", "[brands.x]\nterms = []\n",
              "terms = [\"Acme\"]\n", "name = \"\"\n", "competitors = [\"nobody\", \"UPPER\"]\n",
              "[metrics]\n", "baseline_days = nan\n",
              "smoothing_buckets = inf\n", "bucket = 5\n", "recovery_sd = -1\n", "[dipwatch]\n",
              "db = 5\n", "[sources.reddit]\n", "limit = 1e400\n", "x = 1979-05-27T07:32:00Z\n",
              "[[brands]]\n", "name = \"\\u0000\"\n", "terms = [\"" + "a" * 10_000 + "\"]\n", "\x00", "[\n"]


@PROPERTY
@given(parts=st.lists(st.sampled_from(TOML_PARTS), max_size=8), encoding=st.sampled_from(ENCODINGS))
def test_brands_config_of_hostile_toml(template, parts, encoding):
    content = "".join(parts).encode(encoding, errors="replace")
    run_on_file(template, "cfg.toml", content, ["brands", "--config", "{file}"])


@PROPERTY
@given(content=st.binary(max_size=2000))
def test_brands_config_of_random_bytes(template, content):
    run_on_file(template, "cfg.toml", content, ["brands", "--config", "{file}"])


# --- named cases ---------------------------------------------------------------------------------

GOOD_ROWS = "id,created_at,text\nn1,2026-03-01T10:00:00Z,Acme down\nn2,2026-03-01T10:05:00Z,Acme back\n"


@pytest.mark.parametrize(("encoding", "imports"), [("utf-8-sig", True), ("utf-16", False),
                                                   ("utf-16-le", False)])
def test_import_encodings(template, encoding, imports):
    result, tables = import_file(template, "in.csv", GOOD_ROWS.encode(encoding))
    assert result.exit_code == (0 if imports else 2), result.output
    if imports:
        assert {"n1", "n2"} <= posts_of(tables)


def test_import_latin1_row_is_rejected_and_skip_bad_keeps_the_rest(template):
    content = (GOOD_ROWS + "n3,2026-03-01T10:10:00Z,Acme caf\xe9\n").encode("latin-1")
    result, _ = import_file(template, "in.csv", content)
    assert result.exit_code == 2
    assert "UTF-8" in result.output
    result, tables = import_file(template, "in.csv", content, "--skip-bad")
    assert result.exit_code == 0, result.output
    assert {"n1", "n2"} <= posts_of(tables)
    assert "n3" not in posts_of(tables)


@pytest.mark.parametrize("name", ["in.csv", "in.jsonl"])
def test_import_ten_megabyte_line(template, name):
    huge = "Acme " + "x" * 10_000_000
    content = (GOOD_ROWS + f"n3,2026-03-01T10:10:00Z,{huge}\n" if name == "in.csv" else
               json.dumps({"id": "n3", "created_at": 1772366400, "text": huge}) + "\n")
    result, _ = import_file(template, name, content.encode())
    assert result.exit_code == 2, result.output


def test_import_ten_megabyte_header(template):
    content = ("id,created_at,text," + "x" * 10_000_000 + "\n" + "n1,1772366400,Acme,y\n").encode()
    result, _ = import_file(template, "in.csv", content)
    assert result.exit_code in (0, 2)


def test_import_wide_header(template):
    columns = 100_000
    header = ",".join(f"c{i}" for i in range(columns - 3)) + ",id,created_at,text\n"
    row = "," * (columns - 3) + "w1,1772366400,Acme wide\n"
    result, tables = import_file(template, "in.csv", (header + row).encode())
    assert result.exit_code == 0, result.output
    assert "w1" in posts_of(tables)


def test_import_nul_bytes(template):
    result, _ = import_file(template, "in.csv", GOOD_ROWS.replace("Acme down", "Acme\x00down").encode())
    assert result.exit_code == 2
    # A NUL past the first 64 KB, where the binary sniff does not look: rejected as a row.
    padding = "".join(f"p{i},1772366400,Acme padding row {i}\n" for i in range(3000))
    result, _ = import_file(template, "in.csv", (GOOD_ROWS + padding + "z1,1772366400,Acme\x00\n").encode())
    assert result.exit_code == 2


@pytest.mark.parametrize("newline", ["\r\n", "mixed"])
def test_import_newlines(template, newline):
    rows = GOOD_ROWS.splitlines()
    text = "\r\n".join(rows) + "\r\n" if newline == "\r\n" else rows[0] + "\r\n" + rows[1] + "\n" + rows[2]
    result, tables = import_file(template, "in.csv", text.encode())
    assert result.exit_code == 0, result.output
    assert {"n1", "n2"} <= posts_of(tables)


def test_import_old_mac_newlines_fail_clearly(template):
    result, _ = import_file(template, "in.csv", GOOD_ROWS.replace("\n", "\r").encode())
    assert result.exit_code in (0, 2)


@pytest.mark.parametrize("when", ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                                  "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "-1", "-99999999999",
                                  "999999999999"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_import_dates_out_of_range(template, when, suffix):
    content = (f"id,created_at,text\nd1,{when},Acme\n" if suffix == ".csv"
               else json.dumps({"id": "d1", "created_at": when, "text": "Acme"}) + "\n")
    result, _ = import_file(template, f"in{suffix}", content.encode())
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_import_nan_and_infinite_numbers(template, value):
    content = f'{{"id": "f1", "created_at": {value}, "text": "Acme", "engagement": {value}}}\n'
    result, _ = import_file(template, "in.jsonl", content.encode())
    assert result.exit_code == 2, result.output
    content = f"id,created_at,text,engagement\nf1,1772366400,Acme,{value}\n"
    result, _ = import_file(template, "in.csv", content.encode())
    assert result.exit_code == 2, result.output


def test_import_duplicate_ids(template):
    content = (GOOD_ROWS + "n1,2026-03-01T10:10:00Z,Acme again\n").encode()
    result, _ = import_file(template, "in.csv", content)
    assert result.exit_code == 2
    assert "duplicate id" in result.output
    result, tables = import_file(template, "in.csv", content, "--skip-bad")
    assert result.exit_code == 0
    assert sorted(row[5] for row in tables["posts"] if row[2] == "n1") == ["Acme down"]


def test_import_unclosed_quote(template):
    content = (GOOD_ROWS + 'n3,2026-03-01T10:10:00Z,"Acme never closed\nn4,1772366400,Acme\n').encode()
    result, _ = import_file(template, "in.csv", content)
    assert result.exit_code == 2


@pytest.mark.parametrize("first", [True, False])
def test_import_deeply_nested_json(template, first):
    deep = {"id": "q1", "created_at": 1772366400, "text": "Acme", "extra": "[" * 100_000 + "]" * 100_000}
    line = json.dumps(deep).replace('"' + "[" * 100_000 + "]" * 100_000 + '"', "[" * 100_000 + "]" * 100_000)
    good = json.dumps({"id": "q0", "created_at": 1772366400, "text": "Acme"})
    content = (line + "\n" + good if first else good + "\n" + line) + "\n"
    result, _ = import_file(template, "in.jsonl", content.encode())
    assert result.exit_code == 2, result.output


def test_import_huge_json_integer_is_a_rejected_row(template):
    """A 5,000-digit integer exceeds Python's int conversion limit inside json.loads (a ValueError,
    not a JSONDecodeError): it must be a rejected row naming its line, not the whole file failing."""
    good = json.dumps({"id": "h0", "created_at": 1772366400, "text": "Acme"})
    bad = '{"id": "h1", "created_at": 1772366400, "text": "Acme", "engagement": ' + "9" * 5000 + "}"
    result, tables = import_file(template, "in.jsonl", (good + "\n" + bad + "\n").encode(), "--skip-bad")
    assert result.exit_code == 0, result.output
    assert "h0" in posts_of(tables)
    assert "in.jsonl:2" in result.output


def test_import_lone_surrogate_after_the_first_batch_changes_nothing(template):
    """A JSON ``\\ud800`` escape decodes to a string SQLite cannot store: it must be rejected while the
    file is validated, not fail the write after earlier batches were committed."""
    rows = [json.dumps({"id": f"s{i}", "created_at": 1772366400 + i, "text": "Acme ok"}) for i in range(2500)]
    rows.append('{"id": "bad", "created_at": 1772366400, "text": "Acme \\ud800 broken"}')
    result, _ = import_file(template, "in.jsonl", "\n".join(rows).encode())
    assert result.exit_code == 2, result.output
    assert "in.jsonl:2501" in result.output


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "-1",
                                  "0000-01-01T00:00:00Z", "NaN"])
def test_outage_import_dates_out_of_range(template, when):
    content = f"brand,start,end,label\nacme,{when},,x\n".encode()
    result, _ = run_on_file(template, "out.csv", content, ["outages", "import", "{file}"])
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("case", ["ten-megabyte-line", "wide-header", "nul", "utf-16", "old-mac-newlines"])
def test_outage_import_named_cases(template, case):
    good = "brand,start,end,label\nacme,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,checkout down\n"
    content = {
        "ten-megabyte-line": (good + "acme,2026-03-03T10:00:00Z,," + "x" * 10_000_000 + "\n").encode(),
        "wide-header": (",".join(f"c{i}" for i in range(100_000)) + ",brand,start,end,label\n"
                        + "," * 100_000 + "acme,2026-03-02T10:00:00Z,,wide\n").encode(),
        "nul": good.replace("checkout", "check\x00out").encode(),
        "utf-16": good.encode("utf-16"),
        "old-mac-newlines": good.replace("\n", "\r").encode(),
    }[case]
    result, tables = run_on_file(template, "out.csv", content, ["outages", "import", "{file}"])
    if case == "wide-header":
        assert result.exit_code == 0, result.output
        assert any(row[4] == "wide" for row in tables["outages"])
    if case == "utf-16":
        assert result.exit_code == 2


@pytest.mark.parametrize("case", ["deep-array", "deep-table", "bad-url", "db-under-a-file", "latin-1",
                                  "utf-16", "nan-metric", "huge-brand-table"])
def test_brands_config_named_cases(template, case):
    content = {
        "deep-array": ("a = " + "[" * 3000 + "]" * 3000 + "\n").encode(),
        "deep-table": ("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n").encode(),
        "bad-url": b'[dipwatch]\ndb = "not a url://x"\n',
        "db-under-a-file": b'[dipwatch]\ndb = "cfg.toml/sub/x.db"\n',
        "latin-1": '[brands.acme]\nname = "Acme caf\xe9"\n'.encode("latin-1"),
        "utf-16": '[brands.acme]\nname = "Acme"\n'.encode("utf-16"),
        "nan-metric": b"[metrics]\nbaseline_days = nan\nsmoothing_buckets = inf\n",
        "huge-brand-table": "".join(f"[brands.b{i}]\nterms = [\"B{i}\"]\n" for i in range(5000)).encode(),
    }[case]
    with sandbox(template) as where:
        (where / "cfg.toml").write_bytes(content)
        before = dump(where / "t.db")
        # --config and the database path come from the file where it sets one.
        args = ["brands", "--config", "cfg.toml"] + ([] if case in {"bad-url", "db-under-a-file"}
                                                      else ["--db", "t.db"])
        result = invoke(args, where)
        assert_clean_outcome(result)
        if result.exit_code == 2:
            assert "cfg.toml" in result.output, result.output
        assert dump(where / "t.db") == before
        if case == "nan-metric":
            # A NaN or infinite metric must be refused with the config, not break a later report.
            report = invoke(["report", "--brand", "acme", "--config", "cfg.toml", "--db", "t.db"], where)
            assert_clean_outcome(report)
