"""The outage lexicon (``data/lexicon/outage.tsv``): read, checked and versioned, and its multi-word
phrases turned into the single tokens VADER looks up, found fast by a filter before the regex.

Helpers of :mod:`analysis.sentiment`, which is the one entry point for scoring.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass

LEXICON_PACKAGE = "dipwatch.resources.lexicon"
LEXICON_FILE = "outage.tsv"

# VADER recognises negations ("isn't", "n't") only with the ASCII apostrophe, so plain VADER scores
# "isn\u2019t good" (typed on a phone with smart punctuation) as positive, 0.44. Folding the
# typographic apostrophes first fixes that and lets the lexicon list each phrase once.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})

# The characters outside ASCII that re.IGNORECASE matches to an ASCII letter (i, k, s), measured on
# every code point by tests/unit/test_sentiment.py: "\u017f" (long s) matches "s", the Kelvin sign
# matches "k". A text holding one of them can match an ASCII phrase without containing its words in
# ASCII, so the phrase filter leaves such a text to the regex.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")

# bytes.translate table for the phrase filter: ASCII word characters lower-cased, every other byte
# (punctuation, whitespace, each byte of a UTF-8 sequence) a space, so that split() gives the
# lower-cased ASCII word runs of a text.
_WORD_BYTES = bytes(
    ord(char.lower()) if char in string.ascii_letters + string.digits + "_" else ord(" ")
    for char in map(chr, range(256))
)


@dataclass(frozen=True, slots=True)
class _PhraseFilter:
    """Which lexicon phrases a text may contain, found faster than the phrase regex finds them.

    The regex of all the phrases cost twice what VADER does (about 70 us a post against 36 us):
    Python's re tries its hundred-odd alternatives at every position of every text, though few
    texts hold a phrase (39 of VADER's 23,703 human-rated ones). Every match of a phrase contains
    each ASCII word run of it ("can't log in": "can", "t", "log", "in") as a whole word run of the
    text, so only the phrases whose runs are all in the text can match (``candidates``, 2-3 us): a
    text with none needs no regex, and one with some needs only theirs (``_subset_pattern``, a few
    microseconds, as it has a few alternatives).
    """

    # The multi-word phrases, in the order given to ``_phrase_pattern``.
    phrases: tuple[str, ...]
    # Each phrase's key: its longest word run, which few texts contain.
    keys: frozenset[bytes]
    # Key -> (the other word runs, the index in ``phrases``) of each phrase with that key.
    runs: dict[bytes, tuple[tuple[frozenset[bytes], int], ...]]

    def candidates(self, text: str) -> tuple[str, ...]:
        """The phrases whose word runs are all in ``text``, in the order of ``phrases``.

        No other phrase matches in a text without ``_FOLDS_TO_ASCII``: with the phrases in ASCII,
        what matches a phrase's word run there is that run in ASCII letters of either case, between
        non-word characters (whitespace, an apostrophe, a non-ASCII character, whose UTF-8 bytes
        are all >= 0x80) or the ends of the text, and ``_WORD_BYTES`` makes such a run a word of
        its own, lower-cased.

        :param text: a text without ``_FOLDS_TO_ASCII``.
        """
        words = text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split()
        if self.keys.isdisjoint(words):  # most texts: 2 us for this method, all told
            return ()
        keys = self.keys.intersection(words)
        present = set(words)
        found = [index for key in keys for runs, index in self.runs[key] if runs <= present]
        found.sort()
        return tuple([self.phrases[index] for index in found])


def _lexicon_digest(data: bytes) -> str:
    """The lexicon's version: the first 8 hex digits of the SHA-256 of its bytes.

    :param data: the lexicon file's bytes.
    """
    return hashlib.sha256(data).hexdigest()[:8]


def _lexicon_bytes() -> bytes:
    return (importlib.resources.files(LEXICON_PACKAGE) / LEXICON_FILE).read_bytes()


def _parse_lexicon(text: str, source: str = LEXICON_FILE) -> dict[str, float]:
    """Read the lexicon's ``phrase<TAB>valence`` lines into {phrase: valence}.

    Phrases come back lower-cased, with typographic apostrophes folded and single spaces between
    words. Spellings that give the same VADER token ("can't log in", "cant log in") must share
    one valence.

    :param text: the lexicon file's text.
    :param source: the name used in error messages, default the lexicon's file name.
    :raises ValueError: naming the line, for a malformed line, a valence outside -4..+4, or two
        spellings of one token with different valences.
    """
    lexicon: dict[str, float] = {}
    by_token: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{source} line {number}"
        if len(fields) != 2 or not fields[0].strip():
            raise ValueError(f"{where}: expected 'phrase<TAB>valence', got {line!r}")
        try:
            valence = float(fields[1])
        except ValueError:
            raise ValueError(f"{where}: valence must be a number, got {fields[1]!r}") from None
        if not -4 <= valence <= 4:
            raise ValueError(f"{where}: valence must be between -4 and 4, got {valence}")
        phrase = " ".join(fields[0].translate(_APOSTROPHES).lower().split())
        token = _token(phrase)
        if by_token.get(token, valence) != valence:
            raise ValueError(
                f"{where}: {phrase!r} is a spelling of {token!r}, which already has valence "
                f"{by_token[token]}; expected the same valence, got {valence}"
            )
        by_token[token] = valence
        lexicon[phrase] = valence
    return lexicon


def _token(phrase: str) -> str:
    """The single VADER token for a phrase: lower case, no apostrophes, words joined by "_".

    Dropping the apostrophe matters: VADER treats any preceding word containing "n't" as a
    negation, so a token ``can't_log_in`` would flip the valence of the word after it.

    :param phrase: a lexicon phrase or the text that matched it.
    """
    return "_".join(phrase.translate(_APOSTROPHES).replace("'", "").lower().split())


def _phrase_token(match: re.Match[str]) -> str:
    # Keep ALL CAPS: VADER boosts a shouted lexicon word ("SITE IS DOWN").
    text = match.group(0)
    token = _token(text)
    return token.upper() if text.isupper() else token


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any multi-word phrase, longest first, on word bounds.

    :param phrases: lexicon phrases of two or more words.
    """
    alternatives = [
        r"\s+".join(re.escape(word) for word in phrase.split())
        for phrase in sorted(phrases, key=len, reverse=True)
    ]
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _subset_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """``_phrase_pattern`` of some of the phrases, cached: the candidates of a text are one of a few
    hundred small sets (266 in the 200,000 texts of benchmarks/scoring.py).

    Sorting by length is stable, so phrases given in the order the whole pattern was given them
    keep their order among its alternatives.

    :param phrases: some of ``_PhraseFilter.phrases``, at least one, in that order.
    """
    pattern = _phrase_pattern(phrases)
    assert pattern is not None
    return pattern


def _phrase_filter(phrases: Iterable[str]) -> _PhraseFilter | None:
    """The filter for ``_phrase_pattern(phrases)``; None if a phrase is not ASCII or has no word
    run, where ``_PhraseFilter.candidates``'s reasoning fails and every text must go to the regex.

    :param phrases: lexicon phrases of two or more words, in the order given to ``_phrase_pattern``.
    """
    phrases = tuple(phrases)
    runs: dict[bytes, list[tuple[frozenset[bytes], int]]] = {}
    for index, phrase in enumerate(phrases):
        if not phrase.isascii():
            return None
        words = re.findall(rb"\w+", phrase.lower().encode("ascii"))
        if not words:
            return None
        # The longest run, the last of equal ones: "power" of "no power", "pay" of "can't pay".
        key = max(reversed(words), key=len)
        runs.setdefault(key, []).append((frozenset(words) - {key}, index))
    if not phrases:
        return None
    return _PhraseFilter(phrases=phrases, keys=frozenset(runs),
                         runs={key: tuple(found) for key, found in runs.items()})
