"""Does dipwatch's negative signal follow human judgement? Plain VADER and ours, side by side.

Usage: python benchmarks/validity.py [--eval-dir ../shared/eval] [--buckets 200] [--seed 1]

Reads the human-labelled sets in place from the eval directory (../shared/eval beside the checkout;
nothing is copied into the repository) and prints, in one run:

1. GoEmotions test split (Reddit comments, human labels grouped into negative / neutral / positive;
   Apache 2.0), single-label rows: macro-F1 and per-class recall of plain vaderSentiment (compound
   >= 0.05 positive, <= -0.05 negative), of dipwatch's VADER with the outage lexicon (the same rule),
   and of dipwatch's classifier (analysis.classifier). The classifier was trained on the train split,
   its error rates measured on dev; test is used here only.
2. Complaints to brands (tweets annotated by people as complaint or not; no license, so evaluation
   only, never trained on): the share of complaints each scorer calls negative (and positive), and
   the share of non-complaints it calls negative. The complaint lexicon was extended after reading
   complaints with even tweet ids, so the odd half is printed apart: it is the honest figure.
3. VADER's four human-rated sets (MIT): Pearson correlation of the tone score (compound) with the
   human mean rating, plain vaderSentiment and ours.
4. Tracking: buckets drawn from the GoEmotions test split with a known negative share (5% to 90%)
   and 30 to 2,000 posts: mean absolute error and bias, in percentage points, of the share as
   counted (posts counted negative / posts: VADER's negative label, or the classifier's p_negative
   at or above its count threshold) and as estimated (analysis.quantify, adjusted for the error
   rates measured on the dev split), for plain VADER's label and for the classifier, by bucket size.

Ends with the targets of the signal-validity issue and whether each is met.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analysis import sentiment  # noqa: E402
from analysis.quantify import Rates, adjusted_share  # noqa: E402
from benchmarks.lexicon_eval import read_ground_truth  # noqa: E402

CLASSES = ("negative", "neutral", "positive")
SHARES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
SIZES = (30, 100, 500, 2000)
CORPORA = ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets")


def read_goemotions(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        if ids in ("1", "2", "3"):  # labels.txt: 0 ambiguous, 1 negative, 2 neutral, 3 positive
            texts.append(text)
            labels.append(CLASSES[int(ids) - 1])
    return texts, labels


def read_complaints(path: Path) -> list[tuple[int, str, int]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [(int(row[0]), row[1], int(row[2])) for row in csv.reader(fh)]


def vader_label(compound: float) -> str:
    return sentiment.classify(compound)


def macro_f1(truth: list[str], predicted: list[str]) -> tuple[float, dict[str, float]]:
    """Macro-F1 over the three classes, and each class's recall."""
    f1s, recalls = [], {}
    for label in CLASSES:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if p == label != t)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label != p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        recalls[label] = recall
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(f1s) / 3, recalls


def plain_scores(texts: list[str]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [analyzer.polarity_scores(text)["compound"] for text in texts]


def ours(texts: list[str]) -> list:
    return sentiment.score_texts(texts)


def tracking(called: np.ndarray, negative: np.ndarray, rates: Rates, buckets: int, rng: np.random.Generator
             ) -> dict[int, tuple[float, float, float, float]]:
    """Per bucket size: MAE and bias (points) of the counted share and of the estimated share."""
    neg_idx, other_idx = np.flatnonzero(negative), np.flatnonzero(~negative)
    out = {}
    for size in SIZES:
        counted_err, estimated_err = [], []
        for share in SHARES:
            k = round(share * size)
            true = k / size
            for _ in range(buckets):
                chosen = np.concatenate([rng.choice(neg_idx, k), rng.choice(other_idx, size - k)])
                hits = called[chosen].sum()
                counted_err.append(hits / size - true)
                estimate = adjusted_share(np.array([hits]), np.array([size]), rates)[0]
                estimated_err.append(float(estimate) - true)
        counted, estimated = np.array(counted_err) * 100, np.array(estimated_err) * 100
        out[size] = (np.abs(counted).mean(), counted.mean(), np.abs(estimated).mean(), estimated.mean())
    return out


def goemotions_section(eval_dir: Path, results: dict) -> tuple[list[str], list[str], list]:
    texts, truth = read_goemotions(eval_dir / "goemotions_sentiment" / "test.tsv")
    plain = [vader_label(c) for c in plain_scores(texts)]
    scored = ours(texts)
    rows = [("plain vaderSentiment", plain), ("dipwatch VADER + outage lexicon", [s.label for s in scored]),
            ("dipwatch classifier", [s.sentiment_class for s in scored])]
    print(f"\n1. GoEmotions test, {len(texts):,} single-label rows: macro-F1, "
          "recall negative/neutral/positive")
    for name, predicted in rows:
        f1, recalls = macro_f1(truth, predicted)
        results[f"go_{name}"] = f1
        print(f"   {name:<34} F1 {f1:.3f}   recall " + " / ".join(f"{recalls[c]:.3f}" for c in CLASSES))
    return truth, plain, scored


def complaints_section(eval_dir: Path, results: dict) -> None:
    path = eval_dir / "complaints_social_media" / "complaints-data.csv"
    if not path.exists():
        print(f"\n2. Complaints: {path} not found, skipped")
        return
    data = read_complaints(path)
    texts = [text for _, text, _ in data]
    plain = [vader_label(c) for c in plain_scores(texts)]
    scored = ours(texts)
    print(f"\n2. Complaints to brands, {sum(c for *_, c in data):,} complaints and "
          f"{sum(1 - c for *_, c in data):,} others: % called negative (complaints positive)")
    for name, labels in (("plain vaderSentiment", plain),
                         ("dipwatch classifier", [s.sentiment_class for s in scored])):
        for part, keep in (("all", lambda i: True), ("odd ids (held out)", lambda i: i % 2 == 1)):
            chosen = [(label, c) for (i, _, c), label in zip(data, labels, strict=True) if keep(i)]
            comp = [label for label, c in chosen if c == 1]
            other = [label for label, c in chosen if c == 0]
            neg_c = 100 * comp.count("negative") / len(comp)
            pos_c = 100 * comp.count("positive") / len(comp)
            neg_o = 100 * other.count("negative") / len(other)
            results[f"complaints_{name}_{part}"] = (neg_c, neg_o)
            print(f"   {name:<22} {part:<19} complaints {neg_c:5.1f}% ({pos_c:4.1f}% positive)   "
                  f"non-complaints {neg_o:5.1f}%")
    # Whether any count threshold meets the target: the ranking's best complaint rate with at most
    # 20% of non-complaints counted (the classifier's p_negative, a threshold per row).
    probabilities = np.array([s.p_negative for s in scored])
    complaint = np.array([c for *_, c in data]) == 1
    for part, keep in (("all", np.ones(len(data), bool)), ("odd ids (held out)",
                                                            np.array([i % 2 == 1 for i, *_ in data]))):
        neg_c, neg_o, threshold = best_at_most(probabilities[keep & complaint],
                                               probabilities[keep & ~complaint], 0.20)
        print(f"   best threshold for <= 20% non-complaints, {part}: p_negative >= {threshold:.3f} calls "
              f"{neg_c:.1f}% of complaints ({neg_o:.1f}% of non-complaints) negative")


def best_at_most(positives: np.ndarray, negatives: np.ndarray, rate: float) -> tuple[float, float, float]:
    """(% of ``positives`` at or above the lowest threshold calling at most ``rate`` of
    ``negatives``, % of ``negatives`` it calls, the threshold)."""
    ordered = np.sort(negatives)[::-1]
    allowed = int(rate * len(ordered))  # that many may be called
    threshold = float(np.nextafter(ordered[allowed], 1.0)) if allowed < len(ordered) else 0.0
    return (100 * float((positives >= threshold).mean()), 100 * float((negatives >= threshold).mean()),
            threshold)


def pearson_section(eval_dir: Path, results: dict) -> None:
    print("\n3. VADER's human-rated sets: Pearson of the tone score (compound) with the human mean")
    folder = eval_dir / "vader_groundtruth"
    if not folder.exists():
        folder = REPO / "tests" / "fixtures" / "vader"
    for corpus in CORPORA:
        texts, means = read_ground_truth(folder / f"{corpus}_GroundTruth.txt")
        r_plain = statistics.correlation(plain_scores(texts), means)
        r_ours = statistics.correlation([s.compound for s in ours(texts)], means)
        results[f"pearson_{corpus}"] = (r_plain, r_ours)
        print(f"   {corpus:<22} plain {r_plain:.4f}   ours {r_ours:.4f}   ({r_ours - r_plain:+.4f})")


def tracking_section(truth: list[str], plain: list[str], scored: list, buckets: int, seed: int,
                     results: dict) -> None:
    rng = np.random.default_rng(seed)
    negative = np.array([t == "negative" for t in truth])
    card = sentiment.load_model().card["rates"]
    shares = ", ".join(f"{s:.0%}" for s in SHARES)
    print(f"\n4. Tracking: {buckets} buckets per share ({shares}) and size, from GoEmotions test; "
          "error of the share in points: MAE / bias")
    for name, called, rates in (
            ("plain VADER label", np.array([p == "negative" for p in plain]), None),
            ("dipwatch VADER label", np.array([s.label == "negative" for s in scored]), card["vader"]),
            ("dipwatch classifier", np.array([s.counted == 1.0 for s in scored]), card["model"])):
        # Plain VADER has no measured rates of its own: its row shows the share as counted only.
        found = tracking(called, negative, Rates.from_counts(rates or card["vader"]), buckets, rng)
        for size, (c_mae, c_bias, e_mae, e_bias) in found.items():
            estimated = f"estimated {e_mae:5.2f} / {e_bias:+5.2f}" if rates else ""
            print(f"   {name:<22} {size:>5} posts: counted {c_mae:5.2f} / {c_bias:+6.2f}   {estimated}")
        if rates and name == "dipwatch classifier":
            results["tracking"] = found


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def targets(results: dict) -> None:
    go = results["go_dipwatch classifier"]
    large = [results["tracking"][size][2] for size in SIZES if size >= 500]
    tracked = sum(large) / len(large)  # each size has as many buckets: the mean over all buckets
    tweets_plain, tweets_ours = results["pearson_tweets"]
    print("\nTargets (issue: signal validity)")
    print(f"   GoEmotions test macro-F1 >= 0.72: {go:.3f} {verdict(go >= 0.72)}")
    if "complaints_dipwatch classifier_all" in results:
        neg_c, neg_o = results["complaints_dipwatch classifier_all"]
        print(f"   complaints >= 70% negative, non-complaints <= 20%: {neg_c:.1f}% / {neg_o:.1f}% "
              f"{verdict(neg_c >= 70 and neg_o <= 20)}")
    sizes = ", ".join(f"{results['tracking'][size][2]:.2f} at {size:,}" for size in SIZES if size >= 500)
    print(f"   share MAE <= 3 points on average over buckets of 500+ posts: {tracked:.2f} ({sizes}) "
          f"{verdict(tracked <= 3)}")
    print(f"   VADER tweets Pearson of the tone not below plain by more than 0.01: {tweets_ours:.4f} vs "
          f"{tweets_plain:.4f} {verdict(tweets_ours >= tweets_plain - 0.01)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--buckets", type=int, default=200, help="buckets per share and size (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"scorer: {sentiment.scorer_id()}")
    results: dict = {}
    truth, plain, scored = goemotions_section(args.eval_dir, results)
    complaints_section(args.eval_dir, results)
    pearson_section(args.eval_dir, results)
    tracking_section(truth, plain, scored, args.buckets, args.seed, results)
    targets(results)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
