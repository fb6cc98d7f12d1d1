"""The conventions every layer shares, declared once: sentiment thresholds, bucket names and sizes,
scorer names and exit codes."""

from __future__ import annotations

# VADER's own convention for three-way labels (vaderSentiment README, "About the Scoring"): compound
# at or above POSITIVE_THRESHOLD is positive, at or below NEGATIVE_THRESHOLD negative, else neutral.
# A post at or below NEGATIVE_THRESHOLD counts as negative in the tone family's negative share.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

# Bucket sizes of the series, by name, with their wording; the store keeps a rollup at each size.
BUCKETS = {"15min": "15 minutes", "1h": "1 hour", "1d": "1 day"}
BUCKET_MINUTES = {"15min": 15, "1h": 60, "1d": 24 * 60}
BUCKET_SECONDS = tuple(minutes * 60 for minutes in BUCKET_MINUTES.values())  # (900, 3600, 86400)

# [sentiment] scorer: "model" (VADER and the classifier trained on human labels, the default) or
# "vader" (VADER alone, for comparability with earlier figures).
SCORERS = ("model", "vader")

# Exit codes of every command: 0 ok; 1 something failed (for collect: some source failed, the
# others were stored); 2 bad input or config (also a source's missing credentials).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
# An author's vote (their mean compound in a bucket) is rounded to this many places, and the rollup
# keeps its sums as whole numbers of 10**-VOTE_DIGITS (dipwatch.store.tables.SUM_SCALE): the two
# must agree, or a vote read back from the rollup differs from one worked out from the posts.
VOTE_DIGITS = 10
