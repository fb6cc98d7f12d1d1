"""Sentiment scoring: our one wrapper around VADER, plus the outage lexicon in ``data/lexicon/``.

Plain VADER scores "website is down" and "back up, finally working" as 0.0, so it misses both the
dip and the recovery. The outage lexicon adds single words to VADER's lexicon and turns each
multi-word phrase into one underscore-joined token ("can't log in" -> ``cant_log_in``) that VADER
can look up, since VADER only looks up single whitespace-separated tokens.

Each post also gets the probabilities of three classes (negative, neutral, positive) from the
classifier of ``analysis.classifier``, trained on human labels, over VADER's scores and the text;
with the scorer ``vader`` (``[sentiment] scorer`` in dipwatch.toml) they are VADER's own label, as
certainties. ``SCORE_WIDTH`` numbers a post: compound, pos, neu, neg, p_negative, p_neutral,
p_positive, and counted: 1.0 when the post counts as negative in the share that
``analysis.quantify`` adjusts (p_negative at or above the model's count threshold; VADER's label
with the scorer ``vader``).

Scores come from ``analysis.vader_fast``, our faster implementation of vaderSentiment 3.3.2 that
returns the same scores to the last bit (``tests/unit/test_vader_fast.py``); ``_reference_scorer``
keeps vaderSentiment itself, with the same lexicon, for the tests and benchmarks that compare them.
Large batches are scored in several processes.
"""

from __future__ import annotations

import functools
import gc
import importlib.metadata
import importlib.resources
import multiprocessing
import os
import re
import signal
import sys
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, fields
from itertools import repeat
from typing import Protocol

from analysis.classifier import Model, label_of, load_model
from analysis.lexicon import (
    _APOSTROPHES,
    _FOLDS_TO_ASCII,
    _lexicon_bytes,
    _lexicon_digest,
    _parse_lexicon,
    _phrase_filter,
    _phrase_pattern,
    _phrase_token,
    _PhraseFilter,
    _subset_pattern,
    _token,
)
from analysis.quantify import Rates
from analysis.vader_fast import Analyzer
from dipwatch.core.conventions import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, SCORERS

SCORE_WIDTH = 8  # numbers per score row: compound, pos, neu, neg, p_negative, p_neutral, p_positive, counted
_selected = {"scorer": SCORERS[0]}

# Below this many texts a batch is scored in this process: starting and stopping a pool of two
# forked workers took 0.2 s on a busy 2-core machine (5,000 one-word texts), about the time one
# process takes to score 5,000 posts, so a smaller batch would not gain.
PARALLEL_MIN_TEXTS = 5000
# Texts sent to a worker at a time (``_chunk_size``): at most PARALLEL_CHUNK and at least
# PARALLEL_CHUNK_MIN, so that sending them costs little next to scoring them; within these, small
# enough that each worker gets PARALLEL_CHUNKS_PER_WORKER chunks of a batch, so that one slowed by
# other processes holds up the batch by one small chunk at the end. For an import's 20,000 texts on
# 2 workers: 2,500. Chunks of 250 to 5,000 texts all came within 7% of each other on 2 idle cores,
# the larger ones ahead (more texts per message).
PARALLEL_CHUNK = 2500
PARALLEL_CHUNK_MIN = 250
PARALLEL_CHUNKS_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class Score:
    """One text's scores: VADER's ``compound`` in [-1, 1] and pos/neu/neg proportions (the tone),
    and the classifier's probabilities of each class."""

    compound: float
    pos: float
    neu: float
    neg: float
    p_negative: float
    p_neutral: float
    p_positive: float
    counted: float  # 1.0 when the post counts as negative in the share, else 0.0

    @property
    def label(self) -> str:
        """The three-way label of ``compound`` (VADER's convention): "positive", "negative" or
        "neutral"."""
        return classify(self.compound)

    @property
    def sentiment_class(self) -> str:
        """The classifier's class: the likeliest of "negative", "neutral" and "positive"."""
        return label_of(self.p_negative, self.p_neutral, self.p_positive)

    @property
    def row(self) -> tuple[float, ...]:
        """The ``SCORE_WIDTH`` numbers as the store takes them."""
        return (self.compound, self.pos, self.neu, self.neg, self.p_negative, self.p_neutral,
                self.p_positive, self.counted)


class _PolarityScorer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


@dataclass(frozen=True, slots=True)
class _Scorer:
    analyzer: _PolarityScorer
    # The multi-word phrases as one case-insensitive regex: what ``_join_phrases`` must equal.
    phrases: re.Pattern[str] | None
    # None scores every text through ``phrases`` alone: the reference path of the tests.
    phrase_filter: _PhraseFilter | None = None
    # The classifier; None: VADER's label as certain probabilities (the scorer "vader").
    model: Model | None = None


def classify(compound: float) -> str:
    """Label a compound score: "positive" if >= 0.05, "negative" if <= -0.05, else "neutral".

    :param compound: a VADER compound score, in [-1, 1].
    """
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def use_scorer(name: str) -> None:
    """Score with ``name`` (one of ``SCORERS``) from now on in this process and the workers it
    starts: "model" (VADER and the classifier) or "vader" (VADER alone, for comparability).

    :raises ValueError: for another name.
    """
    if name not in SCORERS:
        raise ValueError(f"scorer: expected one of {', '.join(SCORERS)}, got {name!r}")
    if name != _selected["scorer"]:
        _selected["scorer"] = name
        scorer_id.cache_clear()
        _scorer.cache_clear()


def selected_scorer() -> str:
    """The name given to :func:`use_scorer` last ("model" until then): what a Dask backfill sends
    its workers, which read neither this process's config nor its environment."""
    return _selected["scorer"]


def scorer_rates() -> Rates:
    """How often the selected scorer calls a post negative, of truly negative posts and of others,
    measured on human-labelled posts it was not trained on (``rates`` in the model file): what
    ``analysis.quantify`` corrects a bucket's share with."""
    return Rates.from_counts(load_model().card["rates"][_selected["scorer"]])


@functools.cache
def scorer_id() -> str:
    """The id stored with every score: VADER's version, the lexicon's digest and, with the
    classifier, the digest of its weights and complaint lexicon.

    For example ``vader-3.3.2+outage-1a2b3c4d+model-5e6f7a8b``; a change to any gives a new id, so
    stored scores from an older scorer can be found and re-scored (``dipwatch score``).
    """
    vader = importlib.metadata.version("vaderSentiment")
    base = f"vader-{vader}+outage-{_lexicon_digest(_lexicon_bytes())}"
    return base if _selected["scorer"] == "vader" else f"{base}+model-{load_model().digest}"


def score_text(text: str) -> Score:
    """Score one text with VADER and the outage lexicon.

    :param text: the post's text; an empty string scores neutral, 0.0.
    :raises TypeError: if ``text`` is not a str (None or NaN from a DataFrame included).
    """
    _check_text(text)
    return Score(*_score_with(_scorer(), text))


def score_texts(texts: Iterable[str], processes: int | None = None) -> list[Score]:
    """Score many texts, in order; a batch of ``PARALLEL_MIN_TEXTS`` (5,000) or more is spread over
    worker processes, a smaller one is scored in this process.

    :param texts: the texts to score.
    :param processes: worker processes for a large batch; default one per CPU this process may use;
        1 scores every batch in this process.
    :raises TypeError: if any item is not a str (checked before any scoring starts).
    """
    texts = list(texts)
    _check_texts(texts)
    workers = processes or _usable_cpus()
    if workers < 2 or len(texts) < PARALLEL_MIN_TEXTS:
        return _scores_of(_rows(_scorer(), texts))
    return _scores_of(_score_in_pool(texts, workers))


def _scores_of(rows: Iterable[tuple[float, ...]]) -> list[Score]:
    """``[Score(*row) for row in rows]``, in half the time: ``Score.__init__`` (a frozen dataclass's)
    sets each field through ``object.__setattr__``; this sets the same slots directly."""
    new = object.__new__
    setters = [vars(Score)[field.name].__set__ for field in fields(Score)]  # the slots, in field order
    scores: list[Score] = []
    append = scores.append
    for row in rows:
        score = new(Score)
        for set_value, value in zip(setters, row, strict=True):
            set_value(score, value)
        append(score)
    return scores


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"score_text expects a str, got {type(text).__name__}: {text!r:.80}")


def _check_texts(texts: Sequence[object]) -> None:
    """``_check_text`` of each text, in one C loop while they are all str."""
    if not all(map(isinstance, texts, repeat(str))):
        for text in texts:
            _check_text(text)


def _score_with(scorer: _Scorer, text: str) -> tuple[float, ...]:
    """The score row of ``text`` (VADER after folding apostrophes and joining lexicon phrases, then
    the classifier)."""
    return _rows(scorer, [text])[0]


def _rows(scorer: _Scorer, texts: list[str]) -> list[tuple[float, ...]]:
    """``_score_with`` of each text, in order.

    The texts are prepared (``_prepare``) in one loop, then scored in another: the same work in one
    loop took about 10% more time (7% to 12% in three runs on benchmarks/scoring.py's texts), each
    text's two steps evicting the other's code and data from the CPU's caches.
    """
    prepared = [_prepare(scorer, text) for text in texts]
    analyzer = scorer.analyzer
    if isinstance(analyzer, Analyzer):
        tones: list[tuple[float, ...]] = list(map(analyzer.polarity_row, prepared))
    else:
        tones = [_row(analyzer.polarity_scores(text)) for text in prepared]
    model = scorer.model
    if model is None:
        return [(*tone, *_CERTAIN[classify(tone[0])]) for tone in tones]
    probabilities, threshold = model.probabilities, model.count_threshold
    rows: list[tuple[float, ...]] = []
    for text, tone in zip(texts, tones, strict=True):
        p = probabilities(text, *tone)
        rows.append((*tone, *p, 1.0 if p[0] >= threshold else 0.0))
    return rows


# The scorer "vader": its label as the probabilities of (negative, neutral, positive), and counted.
_CERTAIN = {"negative": (1.0, 0.0, 0.0, 1.0), "neutral": (0.0, 1.0, 0.0, 0.0),
            "positive": (0.0, 0.0, 1.0, 0.0)}


def _row(scores: dict[str, float]) -> tuple[float, ...]:
    return scores["compound"], scores["pos"], scores["neu"], scores["neg"]


def _prepare(scorer: _Scorer, text: str) -> str:
    """``text`` as the analyzer scores it: apostrophes folded, lexicon phrases joined."""
    # str.translate took 6 us a post even with nothing to fold (benchmarks/scoring.py's texts);
    # an ASCII text has nothing to fold, and the two searches take 0.1 us.
    if not text.isascii() and ("\u2019" in text or "\u2018" in text):
        text = text.translate(_APOSTROPHES)
    return _join_phrases(scorer, text)


def _join_phrases(scorer: _Scorer, text: str) -> str:
    """``text`` with each lexicon phrase joined into its token: exactly ``scorer.phrases.sub(
    _phrase_token, text)``, but through a regex of the phrases ``scorer.phrase_filter`` leaves.

    The phrases left out cannot match anywhere in the text, and the others keep their order, so at
    every position the first alternative that matches is the one the whole regex would take. A
    text with a character of ``_FOLDS_TO_ASCII`` goes through the whole regex, as the filter's
    reasoning does not hold for it.
    """
    phrases = scorer.phrases
    if phrases is None:
        return text
    phrase_filter = scorer.phrase_filter
    if phrase_filter is None or (
        not text.isascii() and any(char in text for char in _FOLDS_TO_ASCII)
    ):
        return phrases.sub(_phrase_token, text)
    candidates = phrase_filter.candidates(text)
    if not candidates:
        return text
    return _subset_pattern(candidates).sub(_phrase_token, text)


def _score_chunk(texts: list[str]) -> array:
    """The rows of ``texts`` one after another, ``SCORE_WIDTH`` doubles a text: what a worker sends
    back.

    An array pickles as one bytes object and unpickles without a float object per number: the parent
    turns it into tuples in two thirds of the time it took to unpickle a list of tuples. Its doubles
    are the rows' floats, bit for bit.
    """
    rows = array("d")
    for row in _rows(_scorer(), texts):
        rows.extend(row)
    return rows


def _unflatten(rows: array) -> Iterator[tuple[float, ...]]:
    """The score rows (``SCORE_WIDTH`` numbers each) of an array from ``_score_chunk``."""
    numbers = iter(rows)
    return zip(*[numbers] * SCORE_WIDTH, strict=True)


def _score_in_pool(texts: list[str], workers: int) -> list[tuple[float, ...]]:
    """Score ``texts`` in chunks on a :class:`ScoringPool` of ``workers`` processes, in input order."""
    chunks = -(-len(texts) // PARALLEL_CHUNK)
    with ScoringPool(min(workers, chunks)) as pool:
        return pool.rows(texts)()


def _chunk_size(count: int, workers: int) -> int:
    """Texts a worker scores at a time, of a batch of ``count`` given to ``workers`` (see
    ``PARALLEL_CHUNK``): a batch's result is ready only when all its chunks are."""
    return max(PARALLEL_CHUNK_MIN, min(PARALLEL_CHUNK, -(-count // (workers * PARALLEL_CHUNKS_PER_WORKER))))


def _die_with_parent(parent: int) -> None:
    """Make a scoring worker end when the process that started it is killed.

    A SIGKILLed import (cron's timeout, an operator) otherwise left its workers blocked forever on
    the pool's task queue, holding the import's stdout and stderr open (found by the adversarial
    crash tests, which then waited for an end of output that never came).
    """
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no CPU affinity
        return os.cpu_count() or 1


@functools.cache
def _scorer() -> _Scorer:
    """Build the analyzer once per process: it reads VADER's lexicon and emoji files."""
    lexicon = _parse_lexicon(_lexicon_bytes().decode("utf-8"))
    analyzer = Analyzer({_token(phrase): valence for phrase, valence in lexicon.items()})
    phrases = [phrase for phrase in lexicon if " " in phrase]
    return _Scorer(analyzer=analyzer, phrases=_phrase_pattern(phrases),
                   phrase_filter=_phrase_filter(phrases),
                   model=load_model() if _selected["scorer"] == "model" else None)


@functools.cache
def _reference_scorer() -> _Scorer:
    """vaderSentiment's own analyzer with the same outage lexicon, and every text through the
    phrase regex (no ``_PhraseFilter``): what ``_scorer`` must equal.

    For tests and benchmarks; scoring through it is about 5x slower (3.4x for VADER, the rest for
    running the regex on every text).
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = _parse_lexicon(_lexicon_bytes().decode("utf-8"))
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({_token(phrase): valence for phrase, valence in lexicon.items()})
    return _Scorer(analyzer=analyzer, phrases=_phrase_pattern(p for p in lexicon if " " in p),
                   model=load_model() if _selected["scorer"] == "model" else None)


class ScoringPool:
    """Worker processes that score in the background while the caller does other work (an import
    stores one block of posts while the next is scored). Use as a context manager.

    :param processes: workers; default one per CPU this process may use. With 1 (or one CPU) texts
        are scored in this process when their result is asked for.
    :param beside: the caller keeps working hard meanwhile (an import storing posts): one worker
        fewer than the CPUs, so that it keeps a core, but at least one worker process wherever there
        are two CPUs. Three busy processes on two cores made a 1,000,000-row import 7% slower.
    """

    def __init__(self, processes: int | None = None, beside: bool = False):
        cpus = _usable_cpus()
        self.processes = processes or (max(1, cpus - 1) if beside else cpus)
        self._separate = self.processes >= 2 or (beside and cpus >= 2)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ScoringPool:
        if self._separate:
            _scorer()  # built before the workers fork, so they inherit it
            context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
            # gc.freeze(): otherwise the forked workers' garbage collector writes to every object
            # inherited from this process and copies its memory page by page. They fork at the first
            # submit.
            gc.freeze()
            self._pool = ProcessPoolExecutor(self.processes, mp_context=context,
                                             initializer=_die_with_parent, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()

    def submit(self, texts: list[str]) -> Callable[[], list[Score]]:
        """Start scoring ``texts``; returns a function that waits for and returns their scores.

        :raises TypeError: if any item is not a str (checked before any scoring starts).
        """
        _check_texts(texts)
        if self._pool is None:
            return lambda: _scores_of(_rows(_scorer(), texts))
        futures = self._submit(_score_chunk, texts)
        # Each chunk's Scores are made as soon as it is back, while the workers score the others.
        return lambda: [score for future in futures for score in _scores_of(_unflatten(future.result()))]

    def rows(self, texts: list[str]) -> Callable[[], list[tuple[float, ...]]]:
        """:meth:`submit` for checked texts, giving score rows (``SCORE_WIDTH`` numbers each)."""
        if self._pool is None:
            return lambda: _rows(_scorer(), texts)
        return self.map_rows(_score_chunk, texts)

    def map_rows(self, score_chunk: Callable[[list[str]], array],
                 texts: list[str]) -> Callable[[], list[tuple[float, ...]]]:
        """:meth:`rows` through another scorer (benchmarks/scoring.py times the analyzer alone).

        :param score_chunk: a module-level function (the workers get it by name), which returns
            the rows of a list of texts as ``_score_chunk`` returns them.
        :param texts: the texts, as ``score_chunk`` takes them.
        """
        if self._pool is None:
            return lambda: list(_unflatten(score_chunk(texts)))
        futures = self._submit(score_chunk, texts)
        return lambda: [row for future in futures for row in _unflatten(future.result())]

    def map(self, work: Callable, items: Iterable) -> Iterator:
        """``work(item)`` of each item, in order, on the workers (in this process without them),
        with a few items in flight at a time: other work that fits these processes, as an import
        checks the rows of its file on them before it scores them.

        :param work: a picklable callable (a module-level function, or an instance of a
            module-level class).
        """
        if self._pool is None:
            yield from map(work, items)
            return
        pending: deque[Future] = deque()
        for item in items:
            pending.append(self._pool.submit(work, item))
            if len(pending) > 2 * self.processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def _submit(self, score_chunk: Callable[[list[str]], array], texts: list[str]) -> list[Future[array]]:
        assert self._pool is not None
        size = _chunk_size(len(texts), self.processes)
        return [self._pool.submit(score_chunk, texts[i : i + size]) for i in range(0, len(texts), size)]
