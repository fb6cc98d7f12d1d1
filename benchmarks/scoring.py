"""Posts scored per second: vaderSentiment (the baseline) vs analysis.vader_fast, on one core and on all.

Usage: python benchmarks/scoring.py [--texts N] [--seed S]

The N texts (default 200,000) are the four VADER ground-truth corpora in tests/fixtures/vader
(23,703 texts) followed by variants of them: random texts from the corpora with one to three edits
that exercise VADER's rules (ALL CAPS, "but", negations, "never so", "without doubt", boosters and
dampeners, idioms, emoji, runs of ! and ?, outage phrases). Both analyzers carry the outage lexicon.

Prints, measured in the same run on the same texts:
- vaderSentiment, one process (baseline): posts/s;
- vader_fast, one process and on all cores: the exact scorer (analysis.vader_fast.Analyzer alone,
  whose scores must equal vaderSentiment's), on all cores through a ScoringPool for all blocks of
  20,000 texts: posts/s and the ratio to the baseline;
- analysis.sentiment.score_texts in one process and on all cores: the whole dipwatch scorer, which
  also folds apostrophes and joins outage phrases into tokens before the analyzer and then runs the
  classifier of analysis.classifier (work the lines above leave out), on all cores through the same
  ScoringPool, as dipwatch import scores its blocks of 20,000 texts: posts/s and the ratio to the baseline;
- mismatches: texts whose scores differ from vaderSentiment's (repr of the dict, or the Score), must be 0.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from array import array
from pathlib import Path

from analysis import sentiment
from analysis.vader_fast import Analyzer

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "vader"
CORPORA = ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets")

NEGATIONS = ("not", "never", "isn't", "don't", "without", "no", "never so", "without doubt", "nor", "least",
             "at least")
BOOSTERS = ("very", "extremely", "EXTREMELY", "kind of", "sort of", "kinda", "slightly", "hardly", "so",
            "totally", "just enough")
IDIOMS = ("the bomb", "cut the mustard", "yeah right", "kiss of death", "to die for", "bad ass", "the shit",
          "under the weather", "bus stop")
EMOJIS = ("\U0001F600", "\U0001F621", "\U0001F494", "\U0001F44D", "\U0001F44D\U0001F3FD", "\u2764",
          "\U0001F62D", "\U0001F1FA\U0001F1F8", "\U0001F525")
BLOCK = 20_000  # texts per timed block, as many as dipwatch import scores at once

OUTAGE = ("site is down", "can't log in", "back up", "still not loading", "outage", "working again")


def read_corpora() -> list[str]:
    texts = []
    for name in CORPORA:
        lines = (FIXTURES / f"{name}_GroundTruth.txt").read_text(encoding="utf-8").splitlines()
        texts += [line.split("\t", 2)[2] for line in lines]
    return texts


def insert(words: list[str], phrase: str, rng: random.Random) -> None:
    words.insert(rng.randint(0, len(words)), phrase)


def vary(text: str, rng: random.Random) -> str:
    """``text`` with one to three random edits that exercise VADER's rules."""
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        edit = rng.randrange(9)
        if edit == 0:
            index = rng.randrange(len(words))
            words[index] = words[index].upper()
        elif edit == 1:
            words = [word.upper() for word in words] if rng.random() < 0.5 else [w.title() for w in words]
        elif edit == 2:
            insert(words, rng.choice(("but", "BUT", "But")), rng)
        elif edit == 3:
            insert(words, rng.choice(NEGATIONS), rng)
        elif edit == 4:
            insert(words, rng.choice(BOOSTERS), rng)
        elif edit == 5:
            insert(words, rng.choice(IDIOMS), rng)
        elif edit == 6:
            emoji = rng.choice(EMOJIS) * rng.randint(1, 3)
            words[-1] += emoji if rng.random() < 0.5 else " " + emoji
        elif edit == 7:
            words[-1] += rng.choice("!?") * rng.randint(1, 6)
        else:
            insert(words, rng.choice(OUTAGE), rng)
    return " ".join(words)


def build_texts(count: int, seed: int) -> list[str]:
    corpora = read_corpora()
    rng = random.Random(seed)
    texts = corpora[:count]
    texts += [vary(rng.choice(corpora), rng) for _ in range(count - len(texts))]
    return texts


def exact_chunk(texts: list[str]) -> array:
    """vader_fast's rows of ``texts``, as ``sentiment._score_chunk`` returns the whole scorer's (runs
    in the pool's workers)."""
    analyzer = sentiment._scorer().analyzer
    rows = array("d")
    unused = (0.0,) * (sentiment.SCORE_WIDTH - 4)  # the pool's rows are as wide as the whole scorer's
    for text in texts:
        rows.extend(analyzer.polarity_row(text))
        rows.extend(unused)
    return rows


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f} posts/s  ({seconds:6.1f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=200_000, help="texts to score (default 200,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the variants (default 1)")
    options = parser.parse_args()
    texts = build_texts(options.texts, options.seed)
    reference = sentiment._reference_scorer()
    fast = sentiment._scorer()
    assert isinstance(fast.analyzer, Analyzer)
    # What score_text hands the analyzer: apostrophes folded, outage phrases joined into tokens.
    prepared = [text.translate(sentiment._APOSTROPHES) for text in texts]
    prepared = [reference.phrases.sub(sentiment._phrase_token, text) for text in prepared]

    # The five are timed block by block, in turn, so that load from other processes on a shared
    # machine falls on all of them alike instead of on whichever ran when it peaked.
    expected, got, exact_rows, scores = [], [], [], []
    baseline = single = exact = sequential = parallel = 0.0
    pool = sentiment.ScoringPool().__enter__()  # one pool for all blocks, as dipwatch import keeps
    for start in range(0, len(texts), BLOCK):
        block, prepared_block = texts[start : start + BLOCK], prepared[start : start + BLOCK]
        started = time.perf_counter()
        expected += [reference.analyzer.polarity_scores(text) for text in prepared_block]
        baseline += time.perf_counter() - started
        started = time.perf_counter()
        got += [fast.analyzer.polarity_scores(text) for text in prepared_block]
        single += time.perf_counter() - started
        started = time.perf_counter()
        exact_rows += pool.map_rows(exact_chunk, prepared_block)()
        exact += time.perf_counter() - started
        started = time.perf_counter()
        sentiment.score_texts(block, processes=1)
        sequential += time.perf_counter() - started
        started = time.perf_counter()
        scores += pool.submit(block)()
        parallel += time.perf_counter() - started
    pool.__exit__(None, None, None)

    single_mismatches = sum(repr(a) != repr(b) for a, b in zip(expected, got, strict=True))
    exact_mismatches = sum(
        repr(row[:4]) != repr((e["compound"], e["pos"], e["neu"], e["neg"]))
        for row, e in zip(exact_rows, expected, strict=True)
    )
    parallel_mismatches = sum(
        repr(score.row[:4]) != repr((e["compound"], e["pos"], e["neu"], e["neg"]))
        for score, e in zip(scores, expected, strict=True)
    )
    print(f"texts: {len(texts):,} (4 VADER corpora + variants, seed {options.seed}), in blocks of {BLOCK:,}; "
          f"load average at the end: {os.getloadavg()[0]:.2f}")
    cpus = sentiment._usable_cpus()
    print(f"{'vaderSentiment, 1 process (baseline):':<40}{rate(len(texts), baseline)}")
    print(f"{'vader_fast, 1 process:':<40}{rate(len(texts), single)}  x{baseline / single:.2f}")
    print(f"{f'vader_fast, {cpus} processes:':<40}{rate(len(texts), exact)}  x{baseline / exact:.2f}")
    print(f"{'score_texts, 1 process:':<40}{rate(len(texts), sequential)}  x{baseline / sequential:.2f}")
    print(f"{f'ScoringPool, {cpus} processes:':<40}{rate(len(texts), parallel)}  x{baseline / parallel:.2f}")
    print(f"mismatches: vader_fast {single_mismatches}, vader_fast on {cpus} processes {exact_mismatches}, "
          f"score_texts {parallel_mismatches} (of {len(texts):,} texts each)")


if __name__ == "__main__":
    main()
