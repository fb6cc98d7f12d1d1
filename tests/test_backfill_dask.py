"""Reddit dump files read, matched and scored on a real Dask LocalCluster, and `dipwatch backfill dump`.

The dumps are written by the tests in the published format: one Reddit JSON object per line, comments
(``RC_``) and submissions (``RS_``), plain or zstd with a 2 GiB window (Pushshift compresses with
``zstd --long=31``). Lines are built from the recorded Reddit fixtures the live collector's tests use
(tests/fixtures/reddit), and in the 2009 dump's shape (``created_utc`` a string, keys in any order,
"[deleted]" authors and bodies), which ../shared/eval/reddit_dump_sample shows but carries no licence to
copy.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import zstandard
from distributed import Client, LocalCluster

from analysis.sentiment import score_texts, scorer_id, use_scorer
from collectors.base import InputError
from collectors.dumps import Partition, item_text, line_to_post, partitions, scan_partition
from collectors.reddit_items import comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.jobs.backfill_dask import DONE, NO_DASHBOARD, backfill_dumps
from dipwatch.store import Store, checkpoints, mentions, posts, runs, scores

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reddit"
SUBMISSION = json.loads((FIXTURES / "search_listing.json").read_text())["data"]["children"][0]["data"]
COMMENT = json.loads((FIXTURES / "subreddit_comments.json").read_text())["data"]["children"][0]["data"]
NEXT = Brand(key="next", name="Next", terms=("Next",))
MAY = 1_714_521_600  # 2024-05-01T00:00:00Z
JUNE_2009 = 1_243_814_400  # 2009-06-01T00:00:00Z
CONFIG = '[brands.next]\nterms = ["Next"]\n'


def submission(ident: str, title: str, selftext: str = "", created: int = MAY) -> dict:
    # Archive lines need not carry "name": the fullname must come out as t3_<id> all the same.
    data = {**SUBMISSION, "id": ident, "title": title, "selftext": selftext, "created_utc": created,
            "permalink": f"/r/unitedkingdom/comments/{ident}/slug/", "num_comments": 0}
    data.pop("name")
    return data


def comment(ident: str, body: str, link: str = "t3_p1", created: int = MAY + 60) -> dict:
    return {**COMMENT, "id": ident, "name": f"t1_{ident}", "body": body, "created_utc": created,
            "link_id": link, "parent_id": link, "permalink": f"/r/unitedkingdom/comments/x/_/{ident}/"}


def comment_2009(ident: str, body: str, author: str, second: int) -> dict:
    """A comment as the 2015 dump of every public comment has it (the shape of
    ../shared/eval/reddit_dump_sample): no permalink, ``created_utc`` a string, keys in any order."""
    data = {"controversiality": 0, "created_utc": str(JUNE_2009 + second), "subreddit": "technology",
            "author_flair_css_class": None, "subreddit_id": "t5_2qh16", "id": ident, "name": f"t1_{ident}",
            "gilded": 0, "parent_id": "t3_8onn9", "ups": 3, "author": author, "link_id": "t3_8onn9",
            "edited": False, "author_flair_text": None, "body": body, "distinguished": None,
            "retrieved_on": 1425978963, "archived": True, "downs": 0, "score_hidden": False, "score": 3}
    keys = sorted(data, key=lambda k: zlib.crc32(f"{ident}{k}".encode()))  # irregular, as in the dump
    return {k: data[k] for k in keys}


SUBMISSIONS = [
    submission("p1", "Next website down?", "Can't check out since 9"),
    submission("p2", "Lunch ideas"),
    submission("p3", "Nextdoor is full of lost cats"),  # "Next" only as a word: not a mention
    submission("p4", "NEXT app logged me out", "again"),
]
COMMENTS = [
    comment("c1", "next.co.uk is down again, Next please fix"),
    comment("c2", "my Nextdoor feed is quiet"),
    comment("c3", "[deleted]"),
    comment("c4", "Same here, the Next app crashes on login", created=MAY + 120),
]
MATCHING = ["t1_c1", "t1_c4", "t3_p1", "t3_p4"]
MALFORMED = '{"id": "c5", "body": "Next is down and the line was cut o'


def ndjson(items: list[dict]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def zstd_long(data: bytes) -> bytes:
    """``data`` compressed as Pushshift does (``zstd --long=31``): the frame asks for a 2 GiB window."""
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31, enable_ldm=True,
                                                           write_content_size=False)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    return compressor.compress(data) + compressor.flush()


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs=NO_DASHBOARD) as cluster, Client(cluster) as opened:
        yield opened


@pytest.fixture
def dumps(write) -> list[Path]:
    """A zstd submissions file and a plain comments file with one malformed line and one blank."""
    rs = write("RS_2024-05.zst", zstd_long(ndjson(SUBMISSIONS).encode()))
    rc = write("RC_2024-05.ndjson", ndjson(COMMENTS[:2]) + MALFORMED + "\n\n" + ndjson(COMMENTS[2:]))
    return [rs, rc]


def stored(store: Store) -> list[tuple]:
    """(post_id, kind, text, url, parent_id, term, compound) of every stored post, by post_id."""
    query = (sa.select(posts.c.post_id, posts.c.kind, posts.c.text, posts.c.url, posts.c.parent_id,
                       mentions.c.term, scores.c.compound)
             .join(mentions, mentions.c.post == posts.c.id)
             .outerjoin(scores, scores.c.post == posts.c.id).order_by(posts.c.post_id))
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_stores_the_matching_items_scored_under_the_live_collectors_ids(store, client, dumps):
    report = backfill_dumps(store, client, NEXT, dumps)
    rows = stored(store)
    assert [r[0] for r in rows] == MATCHING
    live = {p.post_id: p for p in [submission_to_post({**SUBMISSIONS[0], "name": "t3_p1"}),
                                   submission_to_post({**SUBMISSIONS[3], "name": "t3_p4"}),
                                   comment_to_post(COMMENTS[0]), comment_to_post(COMMENTS[3])]}
    expected_scores = dict(zip(live, score_texts(p.text for p in live.values()), strict=True))
    assert rows == [(pid, p.kind, p.text, p.url, p.parent_id, "Next",
                     expected_scores[pid].compound) for pid, p in sorted(live.items())]
    assert rows[2][2] == "Next website down?\n\nCan't check out since 9"
    assert (report.status, report.partitions, report.lines, report.matched, report.new, report.bad) == (
        "ok", 2, 9, 4, 4, 1)
    [bad] = report.bad_lines
    assert (bad.where(), bad.reason) == ("RC_2024-05.ndjson:3", "not JSON (Unterminated string starting "
                                                                "at: column 22)")
    with store.engine.connect() as conn:
        assert set(conn.execute(sa.select(scores.c.scorer)).scalars()) == {scorer_id()}
        done = conn.execute(sa.select(checkpoints.c.query, checkpoints.c.cursor)
                            .where(checkpoints.c.source == "reddit", checkpoints.c.brand == "next")).all()
        assert sorted(done) == sorted((p.key, DONE) for path in dumps for p in partitions(path, 2**26))
        run = conn.execute(sa.select(runs.c.command, runs.c.source, runs.c.brand, runs.c.status,
                                     runs.c.counts)).one()
    assert run[:4] == ("backfill", "reddit", "next", "ok")
    assert json.loads(run[4]) == {"bad_lines": 1, "failed": 0, "lines": 9, "matched": 4, "new": 4,
                                  "partitions": 2, "skipped": 0}


def test_workers_score_with_the_scorer_the_client_chose(sqlite_store, client, dumps):
    # A worker is another process (on a team, another host): it reads neither the client's config nor
    # its environment, so the scorer named in dipwatch.toml must travel with each partition.
    use_scorer("vader")
    try:
        backfill_dumps(sqlite_store, client, NEXT, dumps)
        chosen = scorer_id()
    finally:
        use_scorer("model")
    with sqlite_store.engine.connect() as conn:
        stored_ids = set(conn.execute(sa.select(scores.c.scorer)).scalars())
        p_negative = set(conn.execute(sa.select(scores.c.p_negative)).scalars())
    assert stored_ids == {chosen} != {scorer_id()}
    # VADER alone gives each post its label as a certainty, never a probability in between.
    assert p_negative <= {0.0, 1.0}


def test_a_rerun_skips_the_done_partitions_and_adds_nothing(sqlite_store, client, dumps):
    backfill_dumps(sqlite_store, client, NEXT, dumps)
    before = stored(sqlite_store)
    again = backfill_dumps(sqlite_store, client, NEXT, dumps)
    assert (again.skipped, again.lines, again.matched, again.new) == (2, 0, 0, 0)
    # Other partition sizes are other partitions: read again, and the store drops what it has.
    resized = backfill_dumps(sqlite_store, client, NEXT, dumps, partition_bytes=300)
    assert (resized.skipped, resized.matched, resized.new) == (1, 2, 0)
    assert stored(sqlite_store) == before


def test_items_collected_live_are_not_stored_twice(sqlite_store, client, dumps):
    from dipwatch.jobs.ingest import save_batch

    save_batch(sqlite_store, [(comment_to_post(COMMENTS[0]), [("next", "Next")])], "salt")
    report = backfill_dumps(sqlite_store, client, NEXT, dumps)
    assert (report.matched, report.new) == (4, 3)
    assert [r[0] for r in stored(sqlite_store)] == MATCHING


def big_plain_dump(count: int = 60) -> str:
    """Short comments of uneven length (a quarter naming Next) and one line that is not JSON."""
    lines = []
    for i in range(count):
        text = "Next checkout broken" if i % 4 == 0 else f"weather talk {i} " + "x" * (i % 7)
        lines.append(json.dumps({"id": f"d{i}", "body": text, "created_utc": MAY + i, "link_id": "t3_p1",
                                 "parent_id": "t3_p1", "author": f"user{i}", "subreddit": "unitedkingdom"}))
        if i == 17:
            lines.append("{not json")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("size", [1, 7, 64, 150, 333, 10_000])
def test_byte_ranges_read_every_line_once(write, size):
    path = write("RC_2024-05.json", big_plain_dump())
    whole = scan_partition(Partition(str(path), 0, path.stat().st_size), NEXT)
    parts = partitions(path, size)
    scans = [scan_partition(p, NEXT) for p in parts]
    assert [p.end for p in parts[:-1]] == [p.start for p in parts[1:]]
    assert [post.post_id for s in scans for post, _ in s.matches] == [p.post_id for p, _ in whole.matches]
    assert (sum(s.lines for s in scans), sum(s.bad for s in scans)) == (whole.lines, whole.bad) == (61, 1)
    assert len(whole.matches) == 15


def test_a_range_that_starts_exactly_at_a_line_keeps_that_line(write):
    path = write("RC.json", '{"a": 1}\n{"b": 2}\n{"c": 3}\n')  # 9 bytes a line
    ranges = [scan_partition(Partition(str(path), s, e), NEXT) for s, e in [(0, 9), (9, 18), (18, 27)]]
    assert [(s.lines, s.bad) for s in ranges] == [(1, 1), (1, 1), (1, 1)]
    where = [s.bad_lines[0].where() for s in ranges]
    assert where == ["RC.json:1", "RC.json at byte 9", "RC.json at byte 18"]


def test_byte_ranges_on_the_cluster_store_what_one_partition_stores(tmp_path, write, client):
    path = write("RC_2024-05.json", big_plain_dump())
    results = []
    for name, size in [("one", 2**26), ("ranges", 500)]:
        with Store(f"sqlite:///{tmp_path / name}.db") as opened:
            report = backfill_dumps(opened, client, NEXT, [path], partition_bytes=size)
            results.append((report.lines, report.matched, report.new, report.bad, stored(opened)))
        assert report.partitions == len(partitions(path, size))
    assert results[1] == results[0]
    assert results[0][:4] == (61, 15, 15, 1)


def test_bad_lines_are_counted_with_their_place_and_never_stop_the_read(write):
    lines = [
        json.dumps(comment("g1", "Next is down")),
        "[1, 2]",
        json.dumps({"id": "x1", "body": "Next lacks a time"}),
        json.dumps({"id": "x2", "kind": "more"}),
        json.dumps({"body": "Next, but no id", "created_utc": MAY}),
        json.dumps({**comment("x3", "Next"), "created_utc": "yesterday"}),
    ]
    raw = ("\n".join(lines) + "\n").encode() + b'{"id": "x4", "body": "Next \xff"}\n' + (
        json.dumps(comment("g2", "Next again")) + "\n").encode()
    path = write("RC_bad.json", raw)
    scan = scan_partition(partitions(path, 2**26)[0], NEXT)
    assert [p.post_id for p, _ in scan.matches] == ["t1_g1", "t1_g2"]
    assert (scan.lines, scan.bad) == (8, 6)
    assert [(b.where(), b.reason) for b in scan.bad_lines] == [
        ("RC_bad.json:2", "not a Reddit item (a JSON list, not an object)"),
        ("RC_bad.json:3", "no 'created_utc' field"),
        ("RC_bad.json:4", "not a Reddit item (neither a submission (no title) nor a comment (no body))"),
        ("RC_bad.json:5", "no 'id' field"),
        ("RC_bad.json:6", "not a Reddit item (could not convert string to float: 'yesterday')"),
        ("RC_bad.json:7", "not UTF-8 (byte 27)"),
    ]


@pytest.mark.parametrize("data", [
    SUBMISSIONS[0], SUBMISSIONS[1], {**SUBMISSIONS[0], "selftext": None}, {**SUBMISSIONS[0], "title": ""},
    COMMENTS[0], {**COMMENTS[0], "body": None}, {**COMMENTS[0], "body": "a\n\nNext"},
], ids=["self post", "link post", "selftext null", "empty title", "comment", "body null", "paragraphs"])
def test_lines_are_matched_on_the_text_their_post_gets(data):
    assert item_text(data) == line_to_post(data).text


def test_the_2009_dump_format_maps_like_the_live_collector(write):
    items = [comment_2009("c09yi51", "Next shipped my order to the wrong city", "wacrover", 0),
             comment_2009("c09yi52", "[deleted]", "[deleted]", 6),
             comment_2009("c09yi53", "next week maybe", "[deleted]", 6)]
    path = write("RC_2009-06.json", ndjson(items))
    scan = scan_partition(partitions(path, 2**26)[0], NEXT)
    assert (scan.lines, scan.bad) == (3, 0)
    assert [(p.post_id, p.created_at, p.author, p.url, p.parent_id, term) for p, term in scan.matches] == [
        ("t1_c09yi51", datetime(2009, 6, 1, tzinfo=UTC), "wacrover",
         "https://www.reddit.com/comments/8onn9/_/c09yi51/", "t3_8onn9", "Next"),
        ("t1_c09yi53", datetime(2009, 6, 1, 0, 0, 6, tzinfo=UTC), None,
         "https://www.reddit.com/comments/8onn9/_/c09yi53/", "t3_8onn9", "Next"),
    ]
    assert line_to_post(items[1]).author is None


def test_a_zstd_dump_cut_short_is_an_error_and_keeps_what_was_read(sqlite_store, write, client):
    items = [comment(f"t{i}", f"Next outage day {i} " + "z" * i) for i in range(3000)]
    data = zstd_long(ndjson(items).encode())
    path = write("RC_2024-05.zst", data[: len(data) * 2 // 3])
    report = backfill_dumps(sqlite_store, client, NEXT, [path])
    assert report.status == "partial"
    assert report.errors == ["RC_2024-05.zst: the zstd stream ends in the middle of a frame "
                             "(a truncated download?)"]
    assert 0 < report.new == report.matched < 3000
    assert sqlite_store.get_checkpoints("reddit", "next") == {}  # read again next time


def test_a_file_compressed_otherwise_or_missing_is_refused(write):
    gz = write("RC.json.gz", b"\x1f\x8b\x08\x00rest")
    with pytest.raises(InputError, match=r"RC.json.gz: gzip-compressed; expected zstd"):
        partitions(gz, 100)
    with pytest.raises(InputError, match="no such file"):
        partitions(gz.with_name("RC_missing.zst"), 100)


def test_the_command_on_a_local_cluster_then_on_a_scheduler(cli_run, write, dumps, client, db_path):
    write("dipwatch.toml", CONFIG)
    first = cli_run(["backfill", "dump", *dumps, "--brand", "Next", "--workers", "1"])
    assert first.exit_code == 0, first.output
    assert "next: 9 lines read, 4 matched, 4 new, 1 bad lines; 2 partitions" in first.output
    assert "bad line: RC_2024-05.ndjson:3: not JSON" in first.output
    again = cli_run(["backfill", "dump", *dumps, "--brand", "next", "--scheduler", client.scheduler.address,
                     "--partition-mb", "0.001"])
    assert again.exit_code == 0, again.output
    ranges = len(partitions(dumps[1], int(0.001 * 2**20)))
    assert ranges > 2
    assert (f"next: 5 lines read, 2 matched, 0 new, 1 bad lines; {ranges + 1} partitions (1 done before)"
            in again.output)
    with Store(f"sqlite:///{db_path}") as opened:
        assert [r[0] for r in stored(opened)] == MATCHING


@pytest.mark.parametrize(("args", "message"), [
    (["RC_missing.zst", "--brand", "next"], "'RC_missing.zst' does not exist"),
    (["RC.json", "--brand", "tesco"], "unknown brand 'tesco'; known brands: next"),
    (["RC.json.gz", "--brand", "next"], "RC.json.gz: gzip-compressed"),
])
def test_bad_input_exits_2_before_any_cluster_starts(cli_run, write, args, message):
    write("dipwatch.toml", CONFIG)
    write("RC.json", ndjson(COMMENTS))
    write("RC.json.gz", b"\x1f\x8b\x08\x00rest")
    result = cli_run(["backfill", "dump", *args])
    assert result.exit_code == 2
    assert message in result.output
