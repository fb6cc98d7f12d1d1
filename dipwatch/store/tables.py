"""The tables and the constants their upkeep shares: the schema as SQLAlchemy Core declares it.

Times are stored as integer seconds since the epoch, UTC: unambiguous, portable between SQLite and
PostgreSQL, and cheap to index and bucket.
"""

from __future__ import annotations

import sqlalchemy as sa

from dipwatch.core.conventions import BUCKET_SECONDS, NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, VOTE_DIGITS

# 2: the series rollup (tables rollup and voices); 3: voices keyed by time before author, and on
# SQLite voices, mentions and scores without a rowid; 4: the classifier's probabilities and the flag
# ``counted`` in scores, the posts counted negative in the rollup (``counted``); 5: the rollup's and
# the voices' sums of compound as whole numbers of 1/SUM_SCALE (exact: the same in any order)
SCHEMA_VERSION = 5
SCHEMA_ATTEMPTS = 5
SCHEMA_LOCK_KEY = 0x64697077  # 'dipw': serialises schema creation on PostgreSQL
READ_MAP_BYTES = 256 * 2**20  # Store.map_for_reading: the dashboard's memory map of a SQLite file
# Posts deleted per step of delete_posts (their rollup events are held in memory meanwhile).
ID_CHUNK = 500
WRITE_LOCK_KEY = 0x64697078  # serialises writers of posts, mentions and scores on PostgreSQL
# The series rollup keeps, per brand, scorer and bucket of these sizes (the dashboard's 15 min, 1 h
# and 1 day), the sums a series needs, with and without one author one voice; a vote is negative
# at or below ROLLUP_NEGATIVE (VADER's convention, dipwatch.core.conventions).
ROLLUP_SIZES = BUCKET_SECONDS
ROLLUP_NEGATIVE = NEGATIVE_THRESHOLD
LABEL_POSITIVE = POSITIVE_THRESHOLD  # and positive at or above this (analysis.sentiment.classify)
VOICE_SIZE = ROLLUP_SIZES[0]  # voices are kept per quarter hour; hours and days add them up
# The rollup and the voices sum compound, its squares and the votes (an author's mean compound,
# rounded to conventions.VOTE_DIGITS = 10 places) as whole numbers of 1e-10: integers add
# up to the same in any order, where sums of floats differed in the last bits from one import order
# to another (issue 20). A value is rounded to the nearest 1e-10 once, as the post is added
# (rollup_sums.units); a VADER compound has 4 places, so that loses nothing of it. 64-bit sums hold
# 900 million posts at |compound| <= 1 in one bucket.
SUM_SCALE = 10**VOTE_DIGITS

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
brands = sa.Table(
    "brands", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),  # JSON list
    sa.Column("competitors", sa.Text, nullable=False, server_default="[]"),  # JSON list of keys
    sa.Column("origin", sa.String(16), nullable=False),  # config | import | demo
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
posts = sa.Table(
    "posts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("post_id", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author_hash", sa.String(64)),
    sa.Column("url", sa.Text),
    sa.Column("parent_id", sa.String(256)),
    sa.Column("engagement", sa.BigInteger),
    sa.Column("rating", sa.SmallInteger),
    sa.Column("collected_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("source", "post_id", name="uq_posts_source_post_id"),
)
# mentions and scores have no rowid on SQLite (schema version 3): their primary key is the table,
# one B-tree fewer to write per post (storing an import of 200,000 posts took 9% less time).
mentions = sa.Table(
    "mentions", metadata,
    sa.Column("post", sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("term", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),  # copied from posts: per-brand range scans
    # Covering for the per-brand series: brand, time range, then the post to join its score.
    sa.Index("ix_mentions_brand_created_post", "brand", "created_at", "post"),
    sqlite_with_rowid=False,
)
scores = sa.Table(
    "scores", metadata,
    sa.Column("post", sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("compound", sa.Float, nullable=False),
    sa.Column("pos", sa.Float, nullable=False),
    sa.Column("neu", sa.Float, nullable=False),
    sa.Column("neg", sa.Float, nullable=False),
    # The classifier's class probabilities (analysis.classifier); the scorer "vader" stores its label
    # as certainties (1, 0, 0). Nullable only because schema 4 added them to existing tables: every
    # score written since has them, and the upgrade filled the older ones from compound.
    sa.Column("p_negative", sa.Float),
    sa.Column("p_neutral", sa.Float),
    sa.Column("p_positive", sa.Float),
    # 1 when the post counts as negative in the share the quantification adjusts (its p_negative at
    # or above the model's count threshold; VADER's label for the scorer "vader").
    sa.Column("counted", sa.SmallInteger),
    sqlite_with_rowid=False,
)
outages = sa.Table(
    "outages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("brand", sa.String(64), nullable=False, index=True),
    sa.Column("starts_at", sa.BigInteger, nullable=False),
    sa.Column("ends_at", sa.BigInteger),  # NULL: still ongoing
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("severity", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # manual | import | statuspage | detected | demo
    sa.Column("external_id", sa.String(256)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("brand", sa.String(64)),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("finished_at", sa.BigInteger),
    sa.Column("status", sa.String(16), nullable=False),  # ok | partial | failed
    sa.Column("counts", sa.Text, nullable=False),  # JSON
    sa.Column("message", sa.Text),
)
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("brand", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(32), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),  # one episode per (brand, key) at a time
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("last_seen_at", sa.BigInteger, nullable=False),
    sa.Column("resolved_at", sa.BigInteger),  # NULL while the episode lasts
    sa.Column("sent", sa.Text),  # JSON: delivery results of the alert, per channel
    sa.Column("cleared", sa.Text),  # JSON: delivery results of the "back to normal" message
    sa.Index("ix_alerts_brand_key", "brand", "key"),
)
# The series rollup, maintained in the same transaction as the posts, mentions and scores it sums:
# reading a brand's 90-day series from it takes milliseconds, where summing 200,000 posts through
# mentions -> scores -> posts took seconds (benchmarks/dashboard_callbacks.py).
rollup = sa.Table(
    "rollup", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),  # seconds: ROLLUP_SIZES
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # start, epoch seconds
    sa.Column("posts", sa.Integer, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),  # sum of compound (in 1/SUM_SCALE)
    sa.Column("negatives", sa.Integer, nullable=False),
    sa.Column("squares", sa.BigInteger, nullable=False),  # sum of compound squared: the interval band
    sa.Column("votes", sa.Integer, nullable=False),  # one author one voice: authors + anonymous posts
    sa.Column("vote_total", sa.BigInteger, nullable=False),  # sum of the votes (an author's mean compound)
    sa.Column("vote_negatives", sa.Integer, nullable=False),
    sa.Column("vote_squares", sa.BigInteger, nullable=False),
    # Posts (not votes) counted negative (scores.counted): with ``posts`` the share the quantification
    # adjusts (analysis.quantify). Whole numbers, so the same posts give the same sums in any order.
    sa.Column("counted", sa.Integer, nullable=False, server_default="0"),
)
# The rollup's figures, in the order its upkeep keeps them: per post, then per vote.
ROLLUP_FIELDS = ("posts", "total", "negatives", "squares", "votes", "vote_total", "vote_negatives",
                 "vote_squares", "counted")
EMPTY_SUMS = (0,) * len(ROLLUP_FIELDS)  # a rollup delta before anything is added
ROLLUP_COLUMNS = ("brand", "scorer", "size", "bucket", *ROLLUP_FIELDS)
# Per author and quarter hour, what their posts add up to: what the rollup's votes are made of, so a
# new post of an author already heard in the bucket changes their vote instead of adding one.
# Keyed by time before author (schema version 3), without a rowid: with the author first, an
# import's voices went to random places of a B-tree larger than the page cache, and storing a
# million posts took 18 s longer (benchmarks/import_1m.py); by time, they go to its end.
voices = sa.Table(
    "voices", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # quarter-hour start
    sa.Column("author", sa.String(64), primary_key=True),
    sa.Column("posts", sa.Integer, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),  # in 1/SUM_SCALE
    sqlite_with_rowid=False,
)
# Which sources a brand's posts came from (the dashboard's Sources filter), kept with the mentions:
# listing them from the posts took over a second at 200,000 posts per brand.
brand_sources = sa.Table(
    "brand_sources", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
)
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("query", sa.String(512), primary_key=True),  # e.g. "search:unitedkingdom"
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

MENTION_COLUMNS = ("post", "brand", "term", "created_at")
VOICE_COLUMNS = ("brand", "scorer", "bucket", "author", "posts", "total")
SCORE_COLUMNS = ("post", "scorer", "compound", "pos", "neu", "neg", "p_negative", "p_neutral", "p_positive",
                 "counted")
# The columns of ``posts`` a PostRow gives, in its order.
POST_COLUMNS = ("source", "post_id", "kind", "created_at", "text", "author_hash", "url", "parent_id",
                "engagement", "rating")
