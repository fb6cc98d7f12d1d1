"""Pearson correlation with human ratings: plain VADER vs dipwatch's scorer (VADER + outage lexicon).

Usage: python benchmarks/sentiment_correlation.py [EVAL_DIR]

Scores the tweets fixture and, if EVAL_DIR (default /work/shared/eval/vader_groundtruth) exists,
the other VADER ground-truth corpora read from there (they are not copied into the repository).
Prints one tab-separated row per corpus: texts, both correlations, their difference, and the
seconds each scorer took.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.sentiment import score_texts, scorer_id

REPO = Path(__file__).resolve().parent.parent
TWEETS = REPO / "tests" / "fixtures" / "vader" / "tweets_GroundTruth.txt"
DEFAULT_EVAL_DIR = Path("/work/shared/eval/vader_groundtruth")
OTHER_CORPORA = (
    "amazonReviewSnippets_GroundTruth.txt",
    "movieReviewSnippets_GroundTruth.txt",
    "nytEditorialSnippets_GroundTruth.txt",
)


def read_ground_truth(path: Path) -> tuple[list[str], list[float]]:
    """Texts and human mean ratings from an ``ID<TAB>MEAN<TAB>TEXT`` file.

    :param path: a VADER ``*_GroundTruth.txt`` file.
    """
    texts, means = [], []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip():
            _, mean, text = line.split("\t", 2)
            texts.append(text)
            means.append(float(mean))
    return texts, means


def measure(path: Path, plain: SentimentIntensityAnalyzer) -> list[str]:
    """One output row: corpus, n, plain r, dipwatch r, difference, plain s, dipwatch s.

    :param path: the ground-truth file.
    :param plain: a plain VADER analyzer.
    """
    texts, means = read_ground_truth(path)
    start = time.perf_counter()
    plain_scores = [plain.polarity_scores(text)["compound"] for text in texts]
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = [score.compound for score in score_texts(texts)]
    ours_s = time.perf_counter() - start
    plain_r = statistics.correlation(plain_scores, means)
    ours_r = statistics.correlation(ours, means)
    name = path.name.removesuffix("_GroundTruth.txt")
    return [
        name,
        str(len(texts)),
        f"{plain_r:.4f}",
        f"{ours_r:.4f}",
        f"{ours_r - plain_r:+.4f}",
        f"{plain_s:.2f}",
        f"{ours_s:.2f}",
    ]


def main(argv: list[str]) -> None:
    """Print the table.

    :param argv: optional single argument, the directory of the other corpora.
    """
    eval_dir = Path(argv[0]) if argv else DEFAULT_EVAL_DIR
    plain = SentimentIntensityAnalyzer()
    score_texts(["warm-up"])  # builds the analyzer once, so the timings below are scoring only
    paths = [TWEETS]
    if eval_dir.is_dir():
        paths += [eval_dir / name for name in OTHER_CORPORA if (eval_dir / name).is_file()]
    print(scorer_id())
    print("corpus\tn\tplain_r\tdipwatch_r\tdiff\tplain_s\tdipwatch_s")
    for path in paths:
        print("\t".join(measure(path, plain)))


if __name__ == "__main__":
    main(sys.argv[1:])
