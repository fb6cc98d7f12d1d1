"""The share of negative posts in a bucket, estimated so that the classifier's errors do not bias it.

A classifier that calls 64% of truly negative posts negative and 12% of the others negative reports
12% negative for a bucket with none, and 64% for one where every post is negative: counted as it is,
the share is squeezed towards the middle and hides the size of a dip. Adjusted classify-and-count
(Forman 2005; Gonzalez et al. 2017, "A review on quantification learning") undoes that: with ``tpr``
the share of negative posts called negative and ``fpr`` the share of the others called negative,
measured on human-labelled posts the classifier was not trained on (GoEmotions dev, in the model
file),

    observed = tpr * p + fpr * (1 - p)   so   p = (observed - fpr) / (tpr - fpr),

kept within [0, 1]. The 95% interval adds the uncertainty of ``tpr`` and ``fpr`` (each a proportion
of a few thousand labelled posts) to the binomial uncertainty of the observed share, by the delta
method:

    var(p) = [obs (1 - obs) / n + p^2 var(tpr) + (1 - p)^2 var(fpr)] / (tpr - fpr)^2.

It holds where the posts resemble the ones the rates were measured on; the README says how far that
is true of posts to a brand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BAND_Z = 1.959964  # the normal quantile of a 95% interval


@dataclass(frozen=True)
class Rates:
    """How often the classifier calls a post negative: ``tpr`` of truly negative posts, ``fpr`` of
    the others, measured on ``negatives`` and ``others`` labelled posts."""

    tpr: float
    fpr: float
    negatives: int
    others: int

    @classmethod
    def from_counts(cls, counts: dict) -> Rates:
        """From the model file's ``rates`` entry (the counts the training script measured)."""
        negatives, others = int(counts["negatives"]), int(counts["others"])
        if negatives <= 0 or others <= 0:
            raise ValueError(f"rates: expected labelled posts of both kinds, got {counts!r}")
        rates = cls(counts["negatives_called_negative"] / negatives,
                    counts["others_called_negative"] / others, negatives, others)
        if rates.tpr <= rates.fpr:
            raise ValueError(f"rates: the classifier must call negative posts negative more often than "
                             f"others (tpr {rates.tpr:.3f} <= fpr {rates.fpr:.3f})")
        return rates


def adjusted_share(called: np.ndarray, posts: np.ndarray, rates: Rates) -> np.ndarray:
    """The estimated negative share of each bucket from ``called`` (posts called negative) of
    ``posts``; NaN where a bucket has no posts."""
    called = np.asarray(called, dtype=np.float64)
    posts = np.asarray(posts, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = called / np.where(posts > 0, posts, np.nan)
    return np.clip((observed - rates.fpr) / (rates.tpr - rates.fpr), 0.0, 1.0)


def share_interval(called: np.ndarray, posts: np.ndarray, rates: Rates) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval (low, high) of :func:`adjusted_share`, within [0, 1]; NaN without posts."""
    called = np.asarray(called, dtype=np.float64)
    posts = np.asarray(posts, dtype=np.float64)
    share = adjusted_share(called, posts, rates)
    with np.errstate(invalid="ignore", divide="ignore"):
        counted = np.where(posts > 0, posts, np.nan)
        observed = called / counted
        var_tpr = rates.tpr * (1 - rates.tpr) / rates.negatives
        var_fpr = rates.fpr * (1 - rates.fpr) / rates.others
        variance = (observed * (1 - observed) / counted + share ** 2 * var_tpr
                    + (1 - share) ** 2 * var_fpr) / (rates.tpr - rates.fpr) ** 2
        error = BAND_Z * np.sqrt(variance)
    return np.clip(share - error, 0.0, 1.0), np.clip(share + error, 0.0, 1.0)
