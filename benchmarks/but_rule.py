"""Seconds to score one text full of "but", at 10,000, 20,000 and 40,000 characters (40,000: the
longest post an import accepts): vaderSentiment (the baseline, whose "but" rule is quadratic in the
text's words) against analysis.vader_fast (one heap per valence instead of list.index).

Usage: python benchmarks/but_rule.py [--repeat N]

Prints per size the best of N runs (default 3) of each, their ratio, and whether the scores are equal.
Doubling the text should double vader_fast's time and quadruple vaderSentiment's.
"""

from __future__ import annotations

import argparse
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.vader_fast import Analyzer

SIZES = (10_000, 20_000, 40_000)
PATTERN = "good but bad but great but sad but it works but "


def best_of(repeat: int, score, text: str) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        score(text)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    reference, fast = SentimentIntensityAnalyzer(), Analyzer()
    print(f"{'characters':>10}  {'vaderSentiment s':>16}  {'vader_fast s':>12}  {'ratio':>7}  same scores")
    for size in SIZES:
        text = (PATTERN * (size // len(PATTERN) + 1))[:size]
        slow = best_of(options.repeat, reference.polarity_scores, text)
        quick = best_of(options.repeat, fast.polarity_scores, text)
        same = repr(reference.polarity_scores(text)) == repr(fast.polarity_scores(text))
        print(f"{size:>10,}  {slow:>16.4f}  {quick:>12.4f}  x{slow / quick:>6.1f}  {same}")


if __name__ == "__main__":
    main()
