"""What customers are saying: words and two-word phrases more frequent in a window than at baseline.

Pure: texts in, counts out. Tokens are lower-case words of letters (apostrophes kept, so "can't"
stays one word); stopwords and the brand's own names are dropped, since every post mentions them.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
# Function words of English posts, plus link debris; short on purpose (complaint words such as "not",
# "down", "again" and "still" are kept: "still down" is the phrase a comms team needs to see).
STOPWORDS = frozenset("""
a about above after all also am an and any are as at be because been being but by can could did do
does doing for from had has have having he her here hers him his how i i'm i've if in into is it
it's its just me my myself of on once only or other our ours out over own same she should so some
such than that that's the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours
yourself http https www com amp rt get got im ive u
""".split())  # noqa: SIM905 (a word list reads best as text)
SMOOTHING = 0.5  # added to each count, so a phrase absent at baseline has a finite ratio


@dataclass(frozen=True)
class Term:
    """One word or phrase: how often in the window, how often per 1,000 posts at baseline, and
    how many times more frequent in the window (per post) than at baseline."""

    term: str
    window_count: int
    window_per_1000: float
    baseline_per_1000: float
    ratio: float


def terms_of(text: str, drop: frozenset[str] = frozenset()) -> set[str]:
    """The distinct words and adjacent-word pairs of one text (a post counts once per term)."""
    words = [w for w in TOKEN.findall(text.lower()) if w not in STOPWORDS and w not in drop]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def count_terms(texts: Iterable[str], drop: frozenset[str] = frozenset()) -> tuple[Counter, int]:
    """How many texts contain each term, and how many texts there were."""
    counts: Counter = Counter()
    total = 0
    for text in texts:
        counts.update(terms_of(text, drop))
        total += 1
    return counts, total


def distinctive_terms(window: Iterable[str], baseline: Iterable[str], drop: Iterable[str] = (),
                      top: int = 15, min_count: int = 3) -> list[Term]:
    """The terms most over-represented in ``window`` compared with ``baseline``.

    :param drop: words never shown (the brand's names and search terms), compared lower-case.
    :param min_count: a term must appear in at least this many window posts.
    :returns: up to ``top`` terms, highest ratio first (ties: more frequent first); empty when the
        window has no posts.
    """
    dropped = frozenset(w for term in drop for w in TOKEN.findall(term.lower()))
    window, baseline = list(window), list(baseline)
    n_window, n_baseline = len(window), len(baseline)
    if n_window == 0:
        return []
    counted = _counted_at_once(window, baseline, dropped, max(min_count, 1))
    if counted is None:  # a text holds the separator: count text by text
        in_window, _ = count_terms(window, dropped)
        at_baseline, _ = count_terms(baseline, dropped)
        counted = [(term, count, at_baseline.get(term, 0)) for term, count in in_window.items()
                   if count >= min_count]
    terms = []
    for term, count, usual_count in counted:
        window_rate = count / n_window
        baseline_rate = (usual_count + SMOOTHING) / (n_baseline + 1)
        usual = 1000 * usual_count / max(n_baseline, 1)
        terms.append(Term(term, count, 1000 * window_rate, usual, window_rate / baseline_rate))
    terms.sort(key=lambda t: (-t.ratio, -t.window_count, t.term))
    return terms[:top]


# Counting all texts at once ---------------------------------------------------------------------
# The texts are joined with SEPARATOR and tokenised by one regex scan; each distinct token gets an
# id, each term an integer code (a word: its id; a pair: V + first * V + second, V the number of
# ids), and numpy counts the texts holding each term with one sort. The same terms and counts as
# count_terms text by text, several times faster on the 5,000 texts of a Voices tab.
SEPARATOR = "\x00"
SCAN = re.compile(f"{TOKEN.pattern}|{SEPARATOR}")
MAX_KEY = 2 ** 62  # code * number of texts + text stays an int64


def _counted_at_once(window: list[str], baseline: list[str], dropped: frozenset[str],
                     min_count: int) -> list[tuple[str, int, int]] | None:
    """(term, window texts holding it, baseline texts holding it) for each term in ``min_count`` or
    more window texts (any order); None when the texts cannot be counted at once (one holds the
    separator, or the codes would overflow)."""
    texts = window + baseline
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1:
        return None
    tokens = SCAN.findall(joined.lower())
    names = list(dict.fromkeys(tokens))  # each distinct token once, by first appearance
    ids = {name: i for i, name in enumerate(names)}
    size, n_texts = len(names), len(texts)
    if (size + size * size) * n_texts >= MAX_KEY:
        return None
    unwanted = np.array([name in STOPWORDS or name in dropped for name in names] or [False])
    sequence = np.array(list(map(ids.__getitem__, tokens)), dtype=np.int64)
    sequence = sequence[~unwanted[sequence]]  # stopwords out, as terms_of: pairs skip over them
    word = sequence != ids.get(SEPARATOR, -1)
    text = np.cumsum(~word)  # the text of each token (a separator starts the next one)
    paired = word[:-1] & word[1:]
    codes = np.concatenate([sequence[word], size + sequence[:-1][paired] * size + sequence[1:][paired]])
    held = np.concatenate([text[word], text[:-1][paired]])
    keys = np.sort(codes * n_texts + held)  # by term, then text
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys  # each term once per text
    terms, in_window = keys // n_texts, keys % n_texts < len(window)
    starts = np.flatnonzero(np.r_[True, terms[1:] != terms[:-1]]) if len(keys) else np.zeros(0, np.intp)
    window_counts = np.add.reduceat(in_window.astype(np.int64), starts) if len(keys) else starts
    baseline_counts = np.diff(np.r_[starts, len(keys)]) - window_counts
    chosen = np.flatnonzero(window_counts >= min_count)
    found = []
    for code, count, usual in zip(terms[starts[chosen]].tolist(), window_counts[chosen].tolist(),
                                  baseline_counts[chosen].tolist(), strict=True):
        term = names[code] if code < size else f"{names[(code - size) // size]} {names[(code - size) % size]}"
        found.append((term, count, usual))
    return found
