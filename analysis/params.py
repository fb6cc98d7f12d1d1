"""Metric parameters: declared once, with their defaults and help (the README documents each)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields

BUCKETS = {"15min": "15 minutes", "1h": "1 hour", "1d": "1 day"}
_MINUTES = {"15min": 15, "1h": 60, "1d": 24 * 60}


@functools.cache
def _delta(bucket: str):
    # pandas is imported here, not at the top: the CLI reads settings without paying ~0.8 s for it.
    import pandas as pd

    return pd.Timedelta(minutes=_MINUTES[bucket])


def _param(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class MetricParams:
    """Parameters of the timeline and recovery metrics (section ``[metrics]`` of dipwatch.toml)."""

    bucket: str = _param("1h", "bucket size of the series: 15min, 1h or 1d")
    smoothing_buckets: int = _param(
        6, "trailing window of the smoothed sentiment, in buckets, weighted by post count"
    )
    baseline_days: int = _param(14, "days before an outage's start that form its baseline")
    exclusion_margin_h: float = _param(
        24, "hours around other outage windows left out of a baseline"
    )
    trough_horizon_h: float = _param(72, "hours after an outage's end still searched for the trough")
    recovery_sd: float = _param(
        1.0, "recovered means smoothed sentiment at or above baseline mean minus this many SDs"
    )
    recovery_hold_h: float = _param(6, "hours the smoothed sentiment must stay recovered")
    sparse_min_posts: int = _param(30, "figures resting on fewer posts than this are flagged sparse")
    peak_min_posts: int = _param(
        10, "the trough of the tone and the peak of the negative share rest on a bucket that has posts "
        "and whose smoothing window holds at least this many"
    )
    one_author_one_voice: bool = _param(
        True, "count each author at most once per bucket (their posts' mean), so one account posting "
        "forty times cannot make a dip on its own; raw post exports are never affected"
    )

    def __post_init__(self) -> None:
        if self.bucket not in BUCKETS:
            raise ValueError(f"bucket: expected one of {', '.join(BUCKETS)}, got {self.bucket!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "one_author_one_voice":
                if not isinstance(value, bool):
                    raise ValueError(f"{f.name}: expected true or false, got {value!r}")
            elif f.name != "bucket" and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{f.name}: expected a number >= 0, got {value!r}")
        if self.smoothing_buckets < 1:
            raise ValueError(f"smoothing_buckets: expected 1 or more, got {self.smoothing_buckets}")

    @property
    def bucket_delta(self):
        """The bucket as a ``pandas.Timedelta``."""
        return _delta(self.bucket)

    @property
    def bucket_hours(self) -> float:
        return _MINUTES[self.bucket] / 60

    def with_bucket(self, bucket: str) -> MetricParams:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["bucket"] = bucket
        return MetricParams(**values)


def describe_params() -> list[tuple[str, object, str]]:
    """(name, default, help) for every metric parameter, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in fields(MetricParams)]
