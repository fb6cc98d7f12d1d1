"""Does the outage lexicon help? Plain VADER vs dipwatch's scorer on human ratings and outage complaints.

Usage: python benchmarks/lexicon_eval.py [--lexicon FILE] [--outage-dir DIR] [--terms]

Prints, for plain VADER (vaderSentiment as shipped) and for ours (analysis.sentiment: VADER, folded
apostrophes and the outage lexicon in data/lexicon/outage.tsv):

1. Pearson correlation of the compound score with the human mean rating on each of VADER's four
   human-rated sets (tweets, Amazon, movie, NYT snippets), read from tests/fixtures/vader when the file
   is there, else from /work/shared/eval/vader_groundtruth; and ours minus plain. The lexicon must not
   cost any set more than 0.01 (``OK``/``LOSS`` per row).
2. The share of outage-complaint texts scored negative (compound <= -0.05, VADER's own threshold) on
   the 2019 power-outage tweets (/work/shared/eval/outage_posts/power_outage_tweets_2019; no license,
   so it is read in place and never copied into the repository). Outage-complaint texts: the tweets of
   the three ``*_during_tweets.csv`` pulls whose text matches both FIRST_PERSON and COMPLAINT below
   (a person saying their own power is out), minus those matching UTILITY (operators' notices).

``--lexicon FILE`` adds a column scored with another lexicon file in place of data/lexicon/outage.tsv
(e.g. ``git show HEAD:data/lexicon/outage.tsv > /tmp/old.tsv``), to measure an edit before and after.
``--terms`` prints, for each lexicon entry, the texts of the four sets that contain it: how many, their
mean human rating (/4, to compare with compound) and the mean compound of plain VADER and of ours.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis import sentiment

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "vader"
EVAL_DIR = Path("/work/shared/eval/vader_groundtruth")
OUTAGE_DIR = Path("/work/shared/eval/outage_posts/power_outage_tweets_2019")
CORPORA = ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets")
MAX_LOSS = 0.01
NEGATIVE = sentiment.NEGATIVE_THRESHOLD

FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|ive|my|we|we're|we've|our|us)\b", re.IGNORECASE)
COMPLAINT = re.compile(
    r"\b(no|without|lost|losing|lose|out of) (power|electricity|lights|internet|wifi|heat|ac|a/?c)\b"
    r"|\b(power|electricity|lights) (is|are|went|has been|have been|keeps going|just went|still)"
    r"( \w+)? (out|off|down)\b"
    r"|\bpower'?s (out|off)\b"
    r"|\bstill (no|out|without)\b",
    re.IGNORECASE,
)
UTILITY = re.compile(r"\b(customers|crews|members|restoration|report an outage|outage map)\b", re.IGNORECASE)


def read_ground_truth(path: Path) -> tuple[list[str], list[float]]:
    """Texts and human mean ratings (-4..+4) from a VADER ``ID<TAB>MEAN<TAB>TEXT`` file."""
    texts, means = [], []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip():
            _, mean, text = line.split("\t", 2)
            texts.append(text)
            means.append(float(mean))
    return texts, means


def corpus_path(name: str) -> Path | None:
    for folder in (FIXTURES, EVAL_DIR):
        path = folder / f"{name}_GroundTruth.txt"
        if path.exists():
            return path
    return None


def complaint_texts(folder: Path) -> tuple[list[str], int]:
    """The outage-complaint tweets of the "during" pulls (see the module docstring), and how many
    tweets those pulls hold."""
    texts, total = [], 0
    for path in sorted(folder.glob("*_during_tweets.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                total += 1
                text = row["Text"].translate(str.maketrans({"\u2019": "'"}))
                if FIRST_PERSON.search(text) and COMPLAINT.search(text) and not UTILITY.search(text):
                    texts.append(row["Text"])
    return texts, total


def use_lexicon(data: bytes) -> None:
    """Score with lexicon ``data`` from now on (relies on analysis.sentiment's cached builder)."""
    sentiment._lexicon_bytes = lambda: data
    sentiment._scorer.cache_clear()


def ours(texts: list[str]) -> list[float]:
    return [s.compound for s in sentiment.score_texts(texts, processes=1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lexicon", type=Path, help="also score with this lexicon file")
    parser.add_argument("--outage-dir", type=Path, default=OUTAGE_DIR)
    parser.add_argument("--terms", action="store_true", help="evidence per lexicon entry")
    args = parser.parse_args()

    plain_analyzer = SentimentIntensityAnalyzer()
    current = sentiment._lexicon_bytes()
    scorers = {"plain": lambda texts: [plain_analyzer.polarity_scores(t)["compound"] for t in texts]}
    if args.lexicon:
        other = args.lexicon.read_bytes()
        scorers[f"other:{args.lexicon.name}"] = lambda texts: (use_lexicon(other), ours(texts))[1]
    scorers["ours"] = lambda texts: (use_lexicon(current), ours(texts))[1]
    names = list(scorers)
    print(f"scorer id of ours: {sentiment.scorer_id()}")

    print("\n1. Pearson r with the human mean rating")
    print("\t".join(["corpus", "texts", *names, "ours-plain", f"loss<= {MAX_LOSS}", "source"]))
    all_texts, all_means, failed = [], [], False
    for corpus in CORPORA:
        path = corpus_path(corpus)
        if path is None:
            print(f"{corpus}\tmissing")
            failed = True
            continue
        texts, means = read_ground_truth(path)
        all_texts += texts
        all_means += means
        r = {name: statistics.correlation(score(texts), means) for name, score in scorers.items()}
        diff = r["ours"] - r["plain"]
        ok = diff >= -MAX_LOSS
        failed |= not ok
        print("\t".join([corpus, str(len(texts)), *(f"{r[n]:.4f}" for n in names), f"{diff:+.4f}",
                         "OK" if ok else "LOSS", str(path.parent)]))

    texts, total = complaint_texts(args.outage_dir)
    if not texts:
        raise SystemExit(f"no outage-complaint tweets found in {args.outage_dir}")
    print(f"\n2. Outage-complaint tweets scored negative (compound <= {NEGATIVE}): {len(texts)} of the "
          f"{total} 'during' tweets")
    print("\t".join(["texts", *names]))
    shares = {n: sum(c <= NEGATIVE for c in score(texts)) / len(texts) for n, score in scorers.items()}
    print("\t".join([str(len(texts)), *(f"{shares[n]:.1%}" for n in names)]))

    if args.terms:
        print("\n3. Lexicon entries in the human-rated sets: texts, mean human rating/4, mean compound")
        print("\t".join(["entry", "texts", "human/4", *names]))
        scored = {n: score(all_texts) for n, score in scorers.items()}
        folded = [t.translate(str.maketrans({"\u2019": "'"})).lower() for t in all_texts]
        for phrase in sentiment._parse_lexicon(current.decode("utf-8")):
            pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)")
            hits = [i for i, t in enumerate(folded) if pattern.search(t)]
            if hits:
                human = statistics.fmean(all_means[i] for i in hits) / 4
                print("\t".join([phrase, str(len(hits)), f"{human:+.3f}",
                                 *(f"{statistics.fmean(scored[n][i] for i in hits):+.3f}" for n in names)]))
    print("\nresult:", "FAIL: a set lost more than 0.01 or is missing" if failed else "OK")


if __name__ == "__main__":
    main()
