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
    in_window, n_window = count_terms(window, dropped)
    at_baseline, n_baseline = count_terms(baseline, dropped)
    if n_window == 0:
        return []
    terms = []
    for term, count in in_window.items():
        if count < min_count:
            continue
        window_rate = count / n_window
        baseline_rate = (at_baseline.get(term, 0) + SMOOTHING) / (n_baseline + 1)
        usual = 1000 * at_baseline.get(term, 0) / max(n_baseline, 1)
        terms.append(Term(term, count, 1000 * window_rate, usual, window_rate / baseline_rate))
    terms.sort(key=lambda t: (-t.ratio, -t.window_count, t.term))
    return terms[:top]
