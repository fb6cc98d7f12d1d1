"""Which scorer this process uses, chosen once from the settings (``[sentiment] scorer``)."""

from __future__ import annotations

from dipwatch.core.config import Settings
from dipwatch.core.conventions import SCORERS


def apply_scorer(settings: Settings) -> None:
    """Make ``settings.scorer`` the scorer of this process (and the workers it starts)."""
    if settings.scorer != SCORERS[0]:  # the default needs no import: `dipwatch status` stays fast
        from analysis.sentiment import use_scorer

        use_scorer(settings.scorer)
