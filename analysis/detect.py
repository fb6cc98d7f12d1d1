"""Outage detection: hours whose mention volume and negative share rise well above the brand's own
usual level for that hour of the week, merged into candidate windows.

Public outage trackers compare the reports of the last minutes with the usual level for that time of
day; we do the same per hour, with robust statistics (median and MAD) over the history *before* each
hour only, so a past outage cannot hide a new one and the future never leaks into the baseline.
Pure: an hourly series in, candidates out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

import numpy as np
import pandas as pd

HOUR = pd.Timedelta("1h")
MAD_TO_SD = 1.4826  # MAD x 1.4826 estimates the SD of normal data


def _param(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class DetectParams:
    """Parameters of outage detection (defaults checked on the data in benchmarks/detect_eval.py)."""

    min_history_days: float = _param(7, "days of data an hour needs before it to be scored")
    volume_z: float = _param(4.0, "flag an hour whose post count is this many robust SDs above usual")
    # -2, not 0: the gate keeps out spikes whose tone is clearly better than usual (a launch, a
    # promotion). On the Caracas blackout VADER reads the Spanish tweets as mostly neutral, so the
    # two peak hours (305 and 385 posts) had a lower negative share than usual and 0 missed them.
    share_z: float = _param(
        -2.0, "and whose negative share is at least this many SDs (two-proportion z) from the last days'"
    )
    min_posts: int = _param(5, "flag no hour with fewer posts than this")
    weeks: int = _param(8, "weeks of history used for the same hour of the week")
    min_weeks: int = _param(
        3, "fewer earlier weeks than this: use the same hour of the day over the last days instead"
    )
    days: int = _param(28, "days of history used for the same hour of the day (the fallback)")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or (f.name != "share_z" and value < 0):
                raise ValueError(f"{f.name}: expected a number >= 0, got {value!r}")
        if self.weeks < 1 or self.days < 1:
            raise ValueError("weeks and days: expected 1 or more")


@dataclass(frozen=True)
class Candidate:
    """A proposed outage window: flagged hours [start, end); ``score`` is the peak hourly volume z."""

    start: datetime
    end: datetime
    score: float
    peak_at: datetime
    posts: int
    expected_posts: float
    negative_share: float | None
    baseline_negative_share: float | None


def score_hours(series: pd.DataFrame, params: DetectParams | None = None) -> pd.DataFrame:
    """Score every hour against the usual level for that hour.

    :param series: hourly, indexed by bucket start (UTC, no gaps in the index), columns ``posts`` and
        ``negatives``; ``posts`` NaN marks an hour with no data at all (not collected), which is
        neither scored nor used as history. From :func:`analysis.timeline.bucket_series`.
    :returns: the same index, columns ``posts``, ``expected`` (median of the comparison hours),
        ``spread`` (robust SD: 1.4826 x MAD, at least sqrt(expected) and 1, because counts are
        Poisson-like and a MAD of 0 would make any post a spike), ``volume_z``, ``share``,
        ``baseline_share`` (negative share of all posts in the last ``days`` days), ``share_z``
        (two-proportion z of this hour's share against it),
        ``profile`` (``week``, ``day`` or ``""`` when unscored) and ``flagged``.
        The comparison hours are the same hour of the week in the last ``weeks`` weeks when at least
        ``min_weeks`` of them have data, else the same hour of the day in the last ``days`` days.
    :raises ValueError: when no hour has ``min_history_days`` of data before it.
    """
    params = params or DetectParams()
    index = series.index
    if len(index) > 1 and not (index[1:] - index[:-1] == HOUR).all():
        raise ValueError("detection needs an hourly series with no missing buckets (bucket = 1h)")
    counts = series["posts"].to_numpy(dtype=float)
    negatives = series["negatives"].to_numpy(dtype=float)
    observed = ~np.isnan(counts)
    history = np.cumsum(observed) - observed  # hours with data strictly before each hour
    needed = params.min_history_days * 24
    scored = observed & (history >= needed)
    if not scored.any():
        raise ValueError(
            f"outage detection needs at least {params.min_history_days:g} days of data before the hours "
            f"it scores, to learn the usual level for each hour; the data covers "
            f"{observed.sum() / 24:.1f} days"
        )

    rows = max(params.weeks, params.days)
    week_counts = _lagged(counts, 168, params.weeks, rows)
    use_week = (~np.isnan(week_counts)).sum(axis=0) >= params.min_weeks
    past_counts = np.where(use_week, week_counts, _lagged(counts, 24, params.days, rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: hours with no history
        expected = np.nanmedian(past_counts, axis=0)
        mad = np.nanmedian(np.abs(past_counts - expected), axis=0)
    spread = np.fmax(np.fmax(MAD_TO_SD * mad, np.sqrt(np.fmax(expected, 0))), 1.0)
    volume_z = (counts - expected) / spread

    # The negative share hardly depends on the time of day but is noisy in a quiet hour, so its
    # baseline pools every hour of the last ``days`` days (on the Caracas data a per-hour pool held
    # about 7 posts and swung between 0.25 and 0.65); the test is a two-proportion z-test.
    window = params.days * 24
    past_posts = _trailing_sum(np.nan_to_num(counts), window)
    past_negatives = _trailing_sum(np.nan_to_num(negatives), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        baseline_share = past_negatives / np.where(past_posts > 0, past_posts, np.nan)
        share = negatives / np.where(counts > 0, counts, np.nan)
        pooled = (np.nan_to_num(negatives) + past_negatives) / (np.nan_to_num(counts) + past_posts)
        # Keep the pooled share away from 0 and 1 so the SD is never zero.
        p = np.clip(np.nan_to_num(pooled, nan=0.5), 0.02, 0.98)
        share_z = (share - baseline_share) / np.sqrt(p * (1 - p) * (1 / counts + 1 / past_posts))
    share_z = np.where(np.isfinite(share_z), share_z, 0.0)

    scored &= np.isfinite(expected)
    flagged = (scored & (volume_z >= params.volume_z) & (share_z >= params.share_z)
               & (np.nan_to_num(counts) >= params.min_posts))
    return pd.DataFrame({
        "posts": counts, "expected": np.where(scored, expected, np.nan),
        "spread": np.where(scored, spread, np.nan), "volume_z": np.where(scored, volume_z, np.nan),
        "share": share, "baseline_share": np.where(scored, baseline_share, np.nan),
        "share_z": np.where(scored, share_z, np.nan),
        "profile": np.where(scored, np.where(use_week, "week", "day"), ""),
        "flagged": flagged,
    }, index=index)


def detect_outages(series: pd.DataFrame, params: DetectParams | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> list[Candidate]:
    """Candidate outage windows: runs of adjacent flagged hours, oldest first.

    :param series: as for :func:`score_hours`; history before ``start`` is used, never flagged.
    :param start: flag hours from this time on (default: all scored hours).
    :param end: flag hours before this time (default: to the end of the series).
    :raises ValueError: when no hour has enough history before it.
    """
    hours = score_hours(series, params)
    keep = hours["flagged"].copy()
    if start is not None:
        keep &= hours.index >= pd.Timestamp(start).floor(HOUR)
    if end is not None:
        keep &= hours.index < pd.Timestamp(end)
    flagged = hours[keep]
    candidates: list[Candidate] = []
    run: list[pd.Timestamp] = []
    for at in flagged.index:
        if run and at - run[-1] > HOUR:
            candidates.append(_candidate(hours.loc[run]))
            run = []
        run.append(at)
    if run:
        candidates.append(_candidate(hours.loc[run]))
    return candidates


def _candidate(hours: pd.DataFrame) -> Candidate:
    posts = int(hours["posts"].sum())
    negatives = float((hours["share"].fillna(0) * hours["posts"]).sum())
    expected = float(hours["expected"].sum())
    base_negatives = float((hours["baseline_share"].fillna(0) * hours["expected"]).sum())
    peak = hours["volume_z"].idxmax()
    return Candidate(
        start=hours.index[0].to_pydatetime(),
        end=(hours.index[-1] + HOUR).to_pydatetime(),
        score=float(hours["volume_z"].max()),
        peak_at=peak.to_pydatetime(),
        posts=posts,
        expected_posts=expected,
        negative_share=round(negatives / posts, 6) if posts else None,
        baseline_negative_share=(round(base_negatives / expected, 6)
                                 if expected and not math.isnan(base_negatives) else None),
    )


def _trailing_sum(values: np.ndarray, hours: int) -> np.ndarray:
    """Sum of ``values`` over the ``hours`` hours strictly before each hour."""
    total = np.r_[0.0, np.cumsum(values)]
    ends = np.arange(len(values))
    return total[ends] - total[np.maximum(ends - hours, 0)]


def _lagged(values: np.ndarray, step: int, count: int, rows: int) -> np.ndarray:
    """Rows k = 1..count: ``values`` shifted by k x step hours (NaN before the series starts and in
    the padding rows up to ``rows``)."""
    out = np.full((rows, len(values)), np.nan)
    for k in range(1, count + 1):
        lag = k * step
        if lag < len(values):
            out[k - 1, lag:] = values[:-lag]
    return out


def coinciding(candidate: Candidate, windows: Iterable, now: datetime):
    """The first of ``windows`` (outages of related brands: competitors, or brands that name this
    one as theirs) that overlaps ``candidate``, else None. A rise in mentions then is likely
    people comparing the two brands during the other's outage, not an outage of this brand: the
    demo's Shopwell "outages" that detection proposed fell on Brightmart's outage days."""
    return next((w for w in sorted(windows, key=lambda w: w.start)
                 if candidate.start < (w.end or now) and candidate.end > w.start), None)


def coincidences(candidates: Iterable[Candidate], windows: Iterable, now: datetime,
                 names: Mapping[str, str]) -> dict[datetime, str]:
    """Per candidate's start, the related brand's outage it falls in (:func:`coinciding`), as
    "Name's outage 'label'" with the brand's display name from ``names`` (its key otherwise)."""
    windows = list(windows)
    found = {}
    for candidate in candidates:
        other = coinciding(candidate, windows, now)
        if other is not None:
            found[candidate.start] = f"{names.get(other.brand, other.brand)}'s outage '{other.label}'"
    return found


def candidate_label(candidate: Candidate, coincides: str | None = None) -> str:
    """The label a detected candidate is stored under; ``coincides`` names the related brand's
    outage it falls in (:func:`coincidences`)."""
    share = "" if candidate.negative_share is None else f", negative share {candidate.negative_share:.0%}"
    label = (f"detected: {candidate.posts} posts vs usual {candidate.expected_posts:.0f}{share} "
             f"(score {candidate.score:.1f})")
    return label + (f"; coincides with {coincides}" if coincides else "")


def unknown_candidates(candidates: Iterable[Candidate], known: Iterable) -> list[Candidate]:
    """The candidates that overlap none of the ``known`` windows (an open one runs to the
    candidate's end)."""
    known = list(known)
    return [c for c in candidates if not any(c.start < (w.end or c.end) and c.end > w.start for w in known)]
