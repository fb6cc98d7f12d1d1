"""The negative-post classifier: a linear layer over VADER's scores, the words of a post and the
complaint lexicon, trained on human labels by ``training/train_classifier.py``.

Plain VADER calls only 41% of complaints to brands negative and a third of them positive: courtesy
("please help", "thanks") outweighs the complaint. This layer gives each post three class
probabilities (negative, neutral, positive) and a class. Its weights are data
(``data/model/classifier.json.gz``, with ``data/model/MODEL_CARD.md``); the complaint lexicon
(``data/lexicon/complaint.tsv``) is written by hand and adds a fixed amount to the negative class per
cue, since no licensed data labels complaints (the card says how it was written and measured).

Everything here is pure and per post; the quantification of a bucket's share is in
``analysis.quantify``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.resources
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise, repeat

from analysis.lexicon import LEXICON_PACKAGE
from dipwatch.core.conventions import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD

MODEL_PACKAGE = "dipwatch.resources.model"
MODEL_FILE = "classifier.json.gz"  # gzip-compressed JSON
COMPLAINT_FILE = "complaint.tsv"
CLASSES = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(3)

# Word tokens: letters and digits with an optional apostrophe suffix ("can't", "it's"), and ! and ?
# on their own (they end a negation's scope and carry tone).
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
# Words that negate what follows: the next NEGATION_SCOPE words are marked with "~" (the common
# device of linear sentiment models: "not good" and "good" get separate weights). The list is
# VADER's idea of negation reduced to the forms left after tokenising.
NEGATIONS = frozenset({
    "not", "no", "never", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "wont",
    "nothing", "nobody", "none", "nor", "neither", "without", "aint", "arent", "couldnt", "shouldnt",
    "wouldnt", "havent", "hasnt", "hadnt", "werent",
})
NEGATION_SCOPE = 3
# VADER's scores enter as dense features times this factor (they are on another scale than the
# 0/1 word features, and a larger value lets the regularised model weigh them fully).
DENSE_SCALE = 3.0
DENSE_FEATURES = ("compound", "pos", "neg", "neu", "is_positive", "is_negative")
# A complaint cue counts at most this many times per category (one long rant is one complaint).
CUE_CAP = 2
# Courtesy that wraps a complaint ("please help", "thanks"): in a post with a complaint cue, the
# features made of these words are left out. Trained on Reddit comments, the model reads "thanks"
# as gratitude, strongly positive, and "@brand please help, can't check out, thanks" came out 64%
# positive; addressed to a brand about a failure, it is politeness, not praise.
COURTESY = frozenset({
    "thanks", "thank", "thx", "ty", "please", "pls", "plz", "kindly", "appreciate", "appreciated",
    "hi", "hello", "hey", "dear", "help", "hope", "sorry", "cheers", "grateful", "advise",
})


def tokens(text: str) -> list[str]:
    """The lower-cased word tokens of ``text``, ``!`` and ``?``, apostrophes folded."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


def marked(words: list[str]) -> list[str]:
    """``words`` with the ``NEGATION_SCOPE`` words after a negation prefixed by ``~`` (``!``/``?``
    end a scope)."""
    out = []
    scope = 0
    for word in words:
        if word in {"!", "?"}:
            scope = 0
            out.append(word)
            continue
        if scope:
            out.append("~" + word)
            scope -= 1
        else:
            out.append(word)
        if word in NEGATIONS or word.endswith("n't"):
            scope = NEGATION_SCOPE
    return out


def word_features(words: list[str]) -> set[str]:
    """The sparse features of a post: its marked words and adjacent pairs of them (present or not)."""
    words = marked(words)
    features = set(words)
    features.update(map(" ".join, pairwise(words)))
    return features


def dense_features(compound: float, pos: float, neu: float, neg: float) -> tuple[float, ...]:
    """VADER's scores as the model's dense features, in ``DENSE_FEATURES`` order."""
    return tuple(DENSE_SCALE * value for value in (
        compound, pos, neg, neu, float(compound >= POSITIVE_THRESHOLD),
        float(compound <= NEGATIVE_THRESHOLD)))


@dataclass(frozen=True)
class ComplaintLexicon:
    """Phrases that say a customer is waiting, failing, losing, charged or not answered.

    Matched on the same tokens as the model (``tokens``), phrase by phrase: ``starts`` maps a first
    word to the (rest of the words, category) of each phrase that begins with it.
    """

    starts: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    categories: tuple[str, ...]

    def cues(self, words: list[str]) -> dict[str, int]:
        """Category -> how many cues of it ``words`` hold (each capped at ``CUE_CAP``)."""
        found: dict[str, int] = {}
        starts = self.starts
        if starts.keys().isdisjoint(words):  # most posts: one C loop
            return found
        for i, word in enumerate(words):
            phrases = starts.get(word)
            if phrases is None:
                continue
            for rest, category in phrases:
                if tuple(words[i + 1:i + 1 + len(rest)]) == rest:
                    found[category] = min(CUE_CAP, found.get(category, 0) + 1)
                    break
        return found


def parse_complaints(text: str, source: str = COMPLAINT_FILE) -> ComplaintLexicon:
    """The lexicon from its TSV text: ``phrase<TAB>category`` per line, ``#`` comments.

    :raises ValueError: naming the line of a malformed entry.
    """
    starts: dict[str, list] = {}
    categories: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        words = tokens(parts[0])
        if len(parts) != 2 or not words or not parts[1].strip():
            raise ValueError(f"{source}, line {number}: expected phrase<TAB>category, got {line!r}")
        category = parts[1].strip()
        categories.add(category)
        starts.setdefault(words[0], []).append((tuple(words[1:]), category))
    # Longer phrases first, so "still not working" is tried before "still not".
    return ComplaintLexicon(
        {word: tuple(sorted(found, key=lambda item: -len(item[0]))) for word, found in starts.items()},
        tuple(sorted(categories)))


@dataclass(frozen=True)
class Model:
    """The trained weights: per feature, its weights on the logits of negative and positive relative
    to neutral."""

    packed: dict[str, int]  # per word feature: both weights in one whole number (``pack``)
    dense: tuple[tuple[float, float], ...]  # per DENSE_FEATURES
    intercept: tuple[float, float]
    cue_weight: float  # added to the negative logit per complaint cue
    # A post counts as negative in the share that analysis.quantify adjusts when its p_negative is at
    # least this: the threshold where the share of negative posts counted minus the share of others
    # counted is largest on the dev split (Forman's "Max" method), which keeps the adjusted share's
    # variance lowest. Below the class's own boundary, so it counts more posts than the class says.
    count_threshold: float
    complaints: ComplaintLexicon
    digest: str
    card: dict

    def probabilities(self, text: str, compound: float, pos: float, neu: float, neg: float
                      ) -> tuple[float, float, float]:
        """(negative, neutral, positive) probabilities of a post with these VADER scores.

        The word weights are added as whole numbers (``packed``), exact whatever the order: a set's
        order changes with each process's string hashing, and a post must get the same bits in an
        import's workers as in ``dipwatch score``.
        """
        lowered = text.lower()
        if not lowered.isascii():  # str.translate costs microseconds even with nothing to fold
            lowered = lowered.translate(_APOSTROPHES)
        words = _TOKEN.findall(lowered)
        cues = self.complaints.cues(words) if words else None
        if "n't" in lowered or not NEGATIONS.isdisjoint(words):
            words = marked(words)
        features = set(words)
        features.update(map(" ".join, pairwise(words)))
        low_base, high_base = self.intercept
        kept: Iterable[str] = features
        if cues:
            low_base += self.cue_weight * sum(cues.values())
            kept = [f for f in features if COURTESY.isdisjoint(f.replace("~", "").split())]
        low, high = unpack(sum(map(self.packed.get, kept, repeat(0))))
        for value, (w_neg, w_pos) in zip(dense_features(compound, pos, neu, neg), self.dense, strict=True):
            low_base += w_neg * value
            high_base += w_pos * value
        return softmax3(low_base + low, high_base + high)


# Word weights are shipped with 4 decimals: as whole numbers of 1/10,000 they add up exactly, in any
# order, and both fit one Python int (the positive logit's in the low PACK_BITS bits, signed), so a
# post's words are summed in one C loop.
WEIGHT_SCALE = 10_000
PACK_BITS = 40
_PACK_HALF = 1 << (PACK_BITS - 1)


def pack(low: float, high: float) -> int:
    """Two weights of 4 decimals as one int: ``unpack(sum of packs)`` is the sums of each."""
    return (round(low * WEIGHT_SCALE) << PACK_BITS) + round(high * WEIGHT_SCALE)


def unpack(packed: int) -> tuple[float, float]:
    """The two sums (negative logit, positive logit) of a sum of :func:`pack` values (each sum
    below 2**39 / 10,000 in size: far above any post's)."""
    high = (packed + _PACK_HALF) % (1 << PACK_BITS) - _PACK_HALF
    return ((packed - high) >> PACK_BITS) / WEIGHT_SCALE, high / WEIGHT_SCALE


def softmax3(negative: float, positive: float) -> tuple[float, float, float]:
    """Probabilities from the negative and positive logits, the neutral logit being 0."""
    top = max(negative, positive, 0.0)
    e_neg, e_neu, e_pos = math.exp(negative - top), math.exp(-top), math.exp(positive - top)
    total = e_neg + e_neu + e_pos
    return e_neg / total, e_neu / total, e_pos / total


def label_of(p_negative: float, p_neutral: float, p_positive: float) -> str:
    """The class of the probabilities: the likeliest, negative before neutral before positive on a tie."""
    if p_negative >= p_neutral and p_negative >= p_positive:
        return "negative"
    return "neutral" if p_neutral >= p_positive else "positive"


def model_bytes() -> bytes:
    return importlib.resources.files(MODEL_PACKAGE).joinpath(MODEL_FILE).read_bytes()


def complaint_bytes() -> bytes:
    return importlib.resources.files(LEXICON_PACKAGE).joinpath(COMPLAINT_FILE).read_bytes()


def model_digest(model: bytes, complaints: bytes) -> str:
    """The first 8 hex digits of the SHA-256 of the model file and the complaint lexicon together."""
    return hashlib.sha256(model + b"\0" + complaints).hexdigest()[:8]


def build_model(data: dict, complaints: ComplaintLexicon, digest: str = "") -> Model:
    """A :class:`Model` from the parsed JSON of ``classifier.json``."""
    return Model(
        packed={feature: pack(w[0], w[1]) for feature, w in data["weights"].items()},
        dense=tuple((w[0], w[1]) for w in data["dense"]),
        intercept=(data["intercept"][0], data["intercept"][1]),
        cue_weight=float(data["cue_weight"]),
        count_threshold=float(data.get("count_threshold", 0.5)),
        complaints=complaints,
        digest=digest,
        card={key: value for key, value in data.items() if key not in ("weights", "dense")},
    )


@functools.cache
def load_model() -> Model:
    """The shipped model, read once per process."""
    raw, lexicon = model_bytes(), complaint_bytes()
    return build_model(json.loads(gzip.decompress(raw)), parse_complaints(lexicon.decode("utf-8")),
                       model_digest(raw, lexicon))
