"""Precision of outage detection on real outage spikes (local evaluation data, never copied here).

Usage: python benchmarks/detect_eval.py [EVAL_DIR]

EVAL_DIR (default /work/shared/eval/outage_posts) holds two unlicensed tweet sets, used here only:
- caracas_blackout_2018/apagon11Septiembre.csv: 1,521 tweets, 2018-09-02 to 09-12; the blackout of
  Sunday 2018-09-09 from about 16:15Z to about 20:00Z (its SOURCE.md, from the tweets themselves).
- power_outage_tweets_2019/*.csv: nine pulls of 2,000 "power outage" tweets, each covering about
  1.5 days (January, June, October 2019); the hours between pulls were never collected and are
  marked as missing, not quiet. The one coherent event is the New England "bomb cyclone",
  about 2019-10-17T00:00Z to 10-19T00:00Z (its SOURCE.md).

Posts are scored with dipwatch's scorer and bucketed hourly, raw and with one author, one voice.
Prints, per data set and variant: candidate windows, how many overlap the known outage (true
positives), precision, whether the outage was found, and each candidate with its score.
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.detect import DetectParams, detect_outages
from analysis.sentiment import score_texts
from analysis.timeline import bucket_series
from analysis.uncertainty import one_voice
from dipwatch.core.params import MetricParams

DEFAULT_EVAL_DIR = Path("/work/shared/eval/outage_posts")
HOURLY = MetricParams(bucket="1h", smoothing_buckets=1)
CARACAS_TRUTH = [(datetime(2018, 9, 9, 16, 15, tzinfo=UTC), datetime(2018, 9, 9, 20, tzinfo=UTC))]
CYCLONE_TRUTH = [(datetime(2019, 10, 17, tzinfo=UTC), datetime(2019, 10, 19, tzinfo=UTC))]


def read_tweets(path: Path, time_column: str, author_column: str) -> pd.DataFrame:
    """Columns created_at (UTC), text, author_hash from one CSV file."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    frame = pd.DataFrame({
        "created_at": pd.to_datetime([r[time_column] for r in rows], utc=True),
        "text": [r["Text" if "Text" in r else "text"] for r in rows],
        "author_hash": [r[author_column] for r in rows],
    })
    frame["compound"] = [s.compound for s in score_texts(frame["text"])]
    return frame


def hourly(frames: list[pd.DataFrame], voice: bool) -> pd.DataFrame:
    """One hourly series over all frames; hours no pull fully covers get posts = NaN (not collected)."""
    everything = pd.concat(frames, ignore_index=True)
    if voice:
        everything = one_voice(everything, HOURLY)
    series = bucket_series(everything, HOURLY)
    covered = pd.Series(False, index=series.index)
    for frame in frames:
        # The scraper walks back from its query date: the first and last hours are only partly covered.
        first = frame["created_at"].min().ceil("1h")
        last = frame["created_at"].max().floor("1h")
        covered |= (series.index >= first) & (series.index < last)
    series = series.astype({"posts": float, "negatives": float})
    series.loc[~covered, ["posts", "negatives"]] = float("nan")
    return series


def evaluate(name: str, series: pd.DataFrame, truth, params: DetectParams) -> None:
    candidates = detect_outages(series, params)
    hits = [c for c in candidates if any(c.start < t_end and c.end > t_start for t_start, t_end in truth)]
    found = any(c.start < t_end and c.end > t_start for c in candidates for t_start, t_end in truth)
    precision = len(hits) / len(candidates) if candidates else float("nan")
    print(f"{name}\tcandidates {len(candidates)}\ttrue {len(hits)}\tprecision {precision:.2f}\t"
          f"outage found: {'yes' if found else 'no'}")
    for c in candidates:
        mark = "TRUE " if c in hits else "false"
        share = "-" if c.negative_share is None else f"{c.negative_share:.2f}"
        print(f"    {mark} {c.start:%Y-%m-%d %H:%M}Z .. {c.end:%H:%M}Z  score {c.score:6.1f}  "
              f"posts {c.posts:4d} (usual {c.expected_posts:6.1f})  negative share {share}")


def main(eval_dir: Path) -> None:
    caracas = [read_tweets(eval_dir / "caracas_blackout_2018" / "apagon11Septiembre.csv",
                           "created_at", "screen_name")]
    pulls = [read_tweets(path, "Date", "Username")
             for path in sorted((eval_dir / "power_outage_tweets_2019").glob("*.csv"))]
    for label, params in (("default", DetectParams()),
                          ("share_z=0 (negative share at least usual)", DetectParams(share_z=0.0))):
        print(f"# parameters: {label}")
        for voice in (False, True):
            variant = "one voice" if voice else "raw"
            evaluate(f"caracas 2018 ({variant})", hourly(caracas, voice), CARACAS_TRUTH, params)
            evaluate(f"power outage 2019 ({variant})", hourly(pulls, voice), CYCLONE_TRUTH, params)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_EVAL_DIR)
