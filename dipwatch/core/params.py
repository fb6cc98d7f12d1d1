"""Metric parameters: declared once, with their defaults and help (the README documents each)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields

from dipwatch.core.conventions import BUCKET_MINUTES, BUCKETS
from dipwatch.core.errors import BadValueError


@functools.cache
def _delta(bucket: str):
    # pandas is imported here, not at the top: the CLI reads settings without paying ~0.8 s for it.
    import pandas as pd

    return pd.Timedelta(minutes=BUCKET_MINUTES[bucket])


def param(default, help_text: str, allowed: tuple[float, float] | None = None):
    """A parameter with its help and, for a number, its allowed range (inclusive)."""
    return field(default=default, metadata={"help": help_text, "range": allowed})


# A year of hours: no baseline, margin, horizon or hold period longer than that means anything, and
# an absurd one (1e14 days) overflowed the date arithmetic far from the config that caused it.
YEAR_H = 366 * 24


def check_range(name: str, value, allowed: tuple[float, float]) -> None:
    """Refuse ``value`` unless it is a number within ``allowed`` (NaN and infinity never are).

    :raises BadValueError: ``"name: expected a number from LOW to HIGH, got VALUE"``.
    """
    low, high = allowed
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or not low <= value <= high):
        raise BadValueError(f"{name}: expected a number from {low:g} to {high:g}, got {value!r}")


@dataclass(frozen=True)
class MetricParams:
    """Parameters of the timeline and recovery metrics (section ``[metrics]`` of dipwatch.toml)."""

    bucket: str = param("1h", "bucket size of the series: 15min, 1h or 1d")
    smoothing_buckets: int = param(
        6, "trailing window of the smoothed sentiment, in buckets, weighted by post count", (1, 10_000)
    )
    baseline_days: int = param(14, "days before an outage's start that form its baseline", (0, 366))
    exclusion_margin_h: float = param(
        24, "hours around other outage windows left out of a baseline", (0, YEAR_H)
    )
    trough_horizon_h: float = param(72, "hours after an outage's end still searched for the trough",
                                     (0, YEAR_H))
    recovery_sd: float = param(
        1.0, "recovered means smoothed sentiment at or above baseline mean minus this many SDs", (0, 100)
    )
    recovery_hold_h: float = param(6, "hours the smoothed sentiment must stay recovered", (0, YEAR_H))
    sparse_min_posts: int = param(30, "figures resting on fewer posts than this are flagged sparse",
                                   (0, 10**9))
    peak_min_posts: int = param(
        10, "the trough of the tone and the peak of the negative share rest on a bucket that has posts "
        "and whose smoothing window holds at least this many", (0, 10**9)
    )
    one_author_one_voice: bool = param(
        True, "count each author at most once per bucket (their posts' mean), so one account posting "
        "forty times cannot make a dip on its own; raw post exports are never affected"
    )

    def __post_init__(self) -> None:
        if self.bucket not in BUCKETS:
            raise BadValueError(f"bucket: expected one of {', '.join(BUCKETS)}, got {self.bucket!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "one_author_one_voice":
                if not isinstance(value, bool):
                    raise BadValueError(f"{f.name}: expected true or false, got {value!r}")
            elif f.metadata["range"] is not None:
                check_range(f.name, value, f.metadata["range"])

    @property
    def bucket_delta(self):
        """The bucket as a ``pandas.Timedelta``."""
        return _delta(self.bucket)

    @property
    def bucket_hours(self) -> float:
        return BUCKET_MINUTES[self.bucket] / 60

    def with_bucket(self, bucket: str) -> MetricParams:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["bucket"] = bucket
        return MetricParams(**values)
