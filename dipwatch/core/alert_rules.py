"""The thresholds of the alert rules, declared once with their defaults and help (no pandas here:
the config validates them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from dipwatch.core.errors import BadValueError
from dipwatch.core.params import YEAR_H, check_range, param


@dataclass(frozen=True)
class AlertRules:
    """Thresholds of the alert rules (``[brands.NAME.alerts]`` in dipwatch.toml)."""

    enabled: bool = param(True, "evaluate this brand's rules at all")
    sentiment_sd: float = param(
        2.0, "sentiment alert: smoothed sentiment under baseline mean minus this many SDs", (0, 100))
    sentiment_buckets: int = param(3, "... for this many consecutive buckets (the latest ones)",
                                   (1, 10_000))
    volume_multiple: float = param(
        3.0, "volume alert: the latest bucket has this many times the usual posts for its hour of week",
        (0, 1e6))
    volume_min_posts: int = param(10, "... and at least this many posts (quiet hours do not alert)",
                                  (0, 10**9))
    not_recovered_hours: float = param(
        24.0, "alert when an outage is ongoing, or ended but not recovered, this many hours later",
        (0, YEAR_H))
    detected: bool = param(True, "alert on outage candidates proposed by `dipwatch outages detect`")
    cooldown_hours: float = param(
        6.0, "after an episode ends, the same condition within this many hours does not alert again",
        (0, YEAR_H))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, bool):
                if not isinstance(value, bool):
                    raise BadValueError(f"{f.name}: expected true or false, got {value!r}")
            else:
                check_range(f.name, value, f.metadata["range"])
