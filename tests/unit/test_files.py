"""collectors.files: CSV and JSON Lines posts, row rejections with line numbers, whole-file refusals."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from types import GeneratorType
from zoneinfo import ZoneInfo

import pytest

from collectors.base import InputError
from collectors.files import DEDUP_BATCH, Rejected, read_posts
from dipwatch.core.records import Post

HEADER = "id,created_at,text,author,url,engagement\n"


def read(path, **kwargs) -> list:
    return list(read_posts(path, **kwargs))


def posts_of(rows) -> dict[int, Post]:
    return {line: row for line, row in rows if isinstance(row, Post)}


def rejections_of(rows) -> dict[int, str]:
    return {line: row.reason for line, row in rows if isinstance(row, Rejected)}


# --- good rows ---------------------------------------------------------------------------------


def test_csv_rows_become_posts_in_utc(write):
    path = write("posts.csv", HEADER
                 + "a1,2026-03-01T18:30:00+01:00,Acme is down,alice,https://x.test/a1,5\n"
                 + "a2,2026-03-01T18:30:00Z,Acme is back,,,\n"
                 + "a3,1772389800,epoch seconds,,,\n")
    rows = read(path, source="csvsrc")
    assert rows == [
        (2, Post("csvsrc", "a1", datetime(2026, 3, 1, 17, 30, tzinfo=UTC), "Acme is down",
                 author="alice", url="https://x.test/a1", engagement=5)),
        (3, Post("csvsrc", "a2", datetime(2026, 3, 1, 18, 30, tzinfo=UTC), "Acme is back")),
        (4, Post("csvsrc", "a3", datetime(2026, 3, 1, 18, 30, tzinfo=UTC), "epoch seconds")),
    ]
    assert all(post.created_at.utcoffset().total_seconds() == 0 for _, post in rows)


def test_jsonl_rows_become_posts_with_integer_epoch(write):
    lines = [
        {"id": "j1", "created_at": "2026-03-01T18:30:00+01:00", "text": "offset"},
        {"id": 2, "created_at": 1772389800, "text": "json integer epoch", "engagement": 7},
    ]
    path = write("posts.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    posts = posts_of(read(path))
    assert posts[1].created_at == datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    assert (posts[2].post_id, posts[2].created_at, posts[2].engagement) == (
        "2", datetime(2026, 3, 1, 18, 30, tzinfo=UTC), 7)


def test_quoted_multiline_csv_text_keeps_its_newline_and_later_line_numbers(write):
    path = write("posts.csv", HEADER
                 + 'm1,2026-03-01T10:00:00Z,"first line\nsecond line",,,\n'
                 + "m2,2026-03-01T11:00:00Z,after,,,\n"
                 + "m3,not-a-date,bad,,,\n")
    rows = read(path)
    posts = posts_of(rows)
    assert posts[2].text == "first line\nsecond line"
    assert posts[4].post_id == "m2"
    assert list(rejections_of(rows)) == [5]


def test_bom_prefixed_utf8_csv_reads_its_header(write):
    path = write("bom.csv", b"\xef\xbb\xbf" + (HEADER + "b1,2026-03-01T10:00:00Z,caf\xc3\xa9 down,,,\n")
                 .encode("latin-1"))
    assert posts_of(read(path))[2].text == "café down"


def test_naive_date_accepted_with_tz_converts_to_utc(write):
    path = write("posts.csv", HEADER
                 + "w1,2026-01-15T12:00:00,winter,,,\n"
                 + "s1,2026-07-15T12:00:00,summer,,,\n")
    posts = posts_of(read(path, tz=ZoneInfo("Europe/London")))
    assert posts[2].created_at == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert posts[3].created_at == datetime(2026, 7, 15, 11, 0, tzinfo=UTC)


def test_tz_does_not_override_an_explicit_offset(write):
    path = write("posts.csv", HEADER + "o1,2026-07-15T12:00:00+02:00,offset,,,\n")
    posts = posts_of(read(path, tz=ZoneInfo("Europe/London")))
    assert posts[2].created_at == datetime(2026, 7, 15, 10, 0, tzinfo=UTC)


# --- rejected rows --------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_line_and_reason(write):
    path = write("posts.csv", HEADER
                 + "g1,2026-03-01T10:00:00Z,good,,,\n"
                 + "b1,yesterday,bad date,,,\n"
                 + "b2,2026-03-01T10:00:00,naive date,,,\n"
                 + "g1,2026-03-01T11:00:00Z,same id again,,,\n"
                 + "b3,2026-03-01T10:00:00Z,   ,,,\n"
                 + "b4,2026-03-01T10:00:00Z,bad engagement,,,lots\n"
                 + "b5,2026-03-01T10:00:00Z,fractional engagement,,,1.5\n"
                 + "g2,2026-03-01T12:00:00Z,good again,,,\n")
    rows = read(path)
    assert [p.post_id for p in posts_of(rows).values()] == ["g1", "g2"]
    reasons = rejections_of(rows)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert reasons[3].startswith("created_at: 'yesterday' is not a date; expected ISO 8601")
    assert reasons[4].startswith("created_at: '2026-03-01T10:00:00' has no UTC offset")
    assert "--tz" in reasons[4]
    assert reasons[5] == "duplicate id 'g1' (first on line 2)"
    assert reasons[6].startswith("text: missing or empty")
    assert reasons[7] == "engagement: 'lots' is not a whole number"
    assert reasons[8] == "engagement: '1.5' is not a whole number"


def test_nan_engagement_in_json_is_rejected(write):
    path = write("posts.jsonl",
                 '{"id": "n1", "created_at": "2026-03-01T10:00:00Z", "text": "ok", "engagement": NaN}\n'
                 '{"id": "n2", "created_at": "2026-03-01T10:00:00Z", "text": "ok", "engagement": 3}\n')
    rows = read(path)
    assert rejections_of(rows) == {1: "engagement: 'nan' is not a whole number"}
    assert posts_of(rows)[2].engagement == 3


def test_row_with_wrong_field_count_is_rejected(write):
    path = write("posts.csv", "id,created_at,text\nx1,2026-03-01T10:00:00Z,a,extra\n")
    assert rejections_of(read(path)) == {2: "expected 3 fields as in the header, found 4"}


def test_non_utf8_byte_in_one_row_rejects_that_row_only(write):
    path = write("posts.csv", (HEADER + "u1,2026-03-01T10:00:00Z,fine,,,\n").encode()
                 + b"u2,2026-03-01T10:00:00Z,caf\xe9 latin-1,,,\n"
                 + b"u3,2026-03-01T11:00:00Z,fine too,,,\n")
    rows = read(path)
    assert rejections_of(rows) == {3: "not valid UTF-8 text"}
    assert [p.post_id for p in posts_of(rows).values()] == ["u1", "u3"]


def test_non_utf8_byte_after_the_first_64k_rejects_that_row_only(write):
    filler = "".join(f"f{i},2026-03-01T10:00:00Z,{'x' * 60},,,\n" for i in range(1200))
    path = write("posts.csv", (HEADER + filler).encode()
                 + b"u2,2026-03-01T10:00:00Z,caf\xe9 latin-1,,,\n"
                 + b"u3,2026-03-01T11:00:00Z,fine too,,,\n")
    rows = read(path)
    assert rejections_of(rows) == {1202: "not valid UTF-8 text"}
    assert len(posts_of(rows)) == 1201


def test_unclosed_quote_does_not_swallow_the_following_rows(write):
    # csv.reader (non-strict) reads an unclosed quote to the end of the file: rows 3 and 4 would
    # silently become part of row 2's text and never be imported or reported.
    path = write("posts.csv", "id,created_at,text\n"
                              'q1,2026-03-01T10:00:00Z,"oops unclosed\n'
                              "q2,2026-03-01T11:00:00Z,fine\n"
                              "q3,2026-03-01T12:00:00Z,fine too\n")
    rows = read(path)
    assert not [row for _, row in rows if isinstance(row, Post) and "q2,2026" in row.text]
    assert 2 in rejections_of(rows)


# --- whole-file refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "where", "message"),
    [
        ("cols.csv", "id,text\nx,hello\n", ":1", "missing required column 'created_at'"),
        ("cols.jsonl", '{"id": "x", "text": "t"}\n', ":1", "missing required column 'created_at'"),
        ("empty.csv", "", "", "file is empty"),
        ("blank.csv", "\n\n  \n", "", "file is empty"),
        ("binary.csv", b"id,created_at,text\n\x00\x01\x02\x00", "", "binary file (contains NUL bytes)"),
        ("utf16.csv", "id,created_at,text\nx,2026-03-01T10:00:00Z,hi\n".encode("utf-16"), "",
         "file is UTF-16"),
        ("notes.txt", "just some notes\nno columns here\n", "", "not a CSV or JSON Lines file"),
        ("broken.jsonl", "{not json\n", ":1", "not valid JSON"),
    ],
)
def test_unusable_file_raises_input_error_naming_the_file(write, name, content, where, message):
    path = write(name, content)
    with pytest.raises(InputError) as caught:
        read(path)
    assert caught.value.where == f"{path}{where}"
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}{where}: ")


def test_missing_column_message_says_what_was_expected(write):
    path = write("cols.csv", "id,text\nx,hello\n")
    with pytest.raises(InputError, match=r"expected id, created_at, text.*found 'id', 'text'"):
        read(path)


def test_missing_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read(tmp_path / "absent.csv")


def test_txt_file_with_csv_content_is_read_as_csv(write):
    path = write("export.txt", "id,created_at,text\nt1,2026-03-01T10:00:00Z,hello\n")
    assert posts_of(read(path))[2].post_id == "t1"


# --- streaming ------------------------------------------------------------------------------------


def test_read_posts_is_a_generator_that_reads_lazily(write):
    # Rows are checked for duplicate ids in batches, so more than one batch is needed to see laziness.
    body = "".join(f"a{i},2026-03-01T10:00:00Z,row {i},,,\n" for i in range(3 * DEDUP_BATCH))
    path = write("posts.csv", HEADER + body)
    rows = read_posts(path)
    assert isinstance(rows, GeneratorType)
    first = next(rows)
    # Rows appended after the first one was yielded are still read: the file is not slurped up front.
    with path.open("a", encoding="utf-8") as fh:
        fh.write("late,2026-03-01T11:00:00Z,appended later,,,\n")
    assert first[1].post_id == "a0"
    rest = [row.post_id for _, row in rows]
    assert len(rest) == 3 * DEDUP_BATCH
    assert rest[-1] == "late"


def test_reading_a_large_file_keeps_memory_small(tmp_path):
    # 20k rows of 2.4 kB: a 48 MB file, read in ~3 s under tracemalloc (200k short rows took 30 s).
    path = tmp_path / "big.csv"
    text = "Acme checkout is down again and support is not answering " * 40
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(20_000):
            fh.write(f"id{i},{1772389800 + i},{text}{i},,,\n")
    assert path.stat().st_size > 45_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _, row in read_posts(path) if isinstance(row, Post))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 20_000_000


def test_an_imports_rows_for_the_store_are_what_the_store_makes_of_each_post(write):
    """An import's workers turn rows into the store's row tuples without making Posts; what they
    give must be, field for field, what the store makes of the Post that :func:`read_posts` reads
    from the same row (any offset, epoch seconds, non-ASCII text, empty optional columns)."""
    import pickle

    from collectors.files import read_rows
    from dipwatch.core.brands import Brand
    from dipwatch.jobs.ingest import _RowCheck, author_hash
    from dipwatch.store import PostRow

    path = write("posts.csv", HEADER
                 + "a1,2026-03-01T18:30:00+01:00,Acme is down ☹,alice,https://x.test/a1,5\n"
                 + "a2,1772389800,Acme back,,,\n"
                 + "a3,2026-03-01T18:30:00Z,\"acme, \"\"again\"\"\",bob,,0\n")
    brand = Brand("acme", "Acme", ("Acme",))
    _, rejected, blob = _RowCheck("csvsrc", None, brand, True, "salt")(list(read_rows(path)))
    assert rejected == []
    expected = [tuple(PostRow.of(post, author_hash("salt", post.author), [("acme", brand.match(post.text))]))
                for post in posts_of(read(path, source="csvsrc")).values()]
    assert pickle.loads(blob) == expected  # noqa: S301 (made by the test)
    assert len(expected) == 3
