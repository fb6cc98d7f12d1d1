"""VADER, rewritten for speed: the same scores as vaderSentiment 3.3.2, to the last bit, 3x faster.

vaderSentiment spends most of its time redoing work: for every word it lower-cases the whole text
again (in its negation and idiom checks), copies the negation word list for every check, looks a
word up in the lexicon several times, and builds the emoji-free text one character at a time. This
module keeps VADER's rules, their order and the order of every floating-point operation, and does
each piece of work once per text: one lower-cased token list, one lexicon lookup per token, sets
for the word lists, and an emoji pass only for texts that contain a non-ASCII character.

The lexicon and emoji files, and VADER's word lists and constants, are read from the installed
vaderSentiment package at run time, so both implementations always share the same data.
``tests/unit/test_vader_fast.py`` checks the scores against vaderSentiment itself.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
import string
from collections.abc import Mapping

from vaderSentiment.vaderSentiment import BOOSTER_DICT, C_INCR, N_SCALAR, NEGATE, SPECIAL_CASES

_PUNCTUATION = string.punctuation

# VADER's constants (vaderSentiment.py, "Constants"): booster step, ALL CAPS step, negation factor.
_CAPS_STEP = C_INCR
_NEGATION_FACTOR = N_SCALAR

_NEGATIONS = frozenset(NEGATE)
_BOOSTERS: dict[str, float] = dict(BOOSTER_DICT)
_IDIOMS: dict[str, float] = dict(SPECIAL_CASES)
# Every word of a special-case idiom ("the bomb", "kiss of death"): no idiom can match a window of
# tokens that contains none of them, so most windows skip building the five candidate strings.
_IDIOM_WORDS = frozenset(word for idiom in _IDIOMS for word in idiom.split())
# Boosters of several words ("kind of", "sort of"): VADER adds their step to the word that follows.
_BOOSTER_PHRASES: dict[tuple[str, ...], float] = {
    tuple(phrase.split()): step for phrase, step in _BOOSTERS.items() if " " in phrase
}
_SO_THIS = ("so", "this")
_AT_VERY = ("at", "very")
_OR_NOR = ("or", "nor")

_NO_SCORE = {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}


class Analyzer:
    """VADER's sentiment analyzer: ``polarity_scores(text)`` equals vaderSentiment's, bit for bit.

    :param extra_lexicon: {token: valence} added to VADER's lexicon (replacing its valence for a
        token it already has), exactly as ``SentimentIntensityAnalyzer().lexicon.update(...)``.
        Tokens are looked up lower-cased, so keys should be lower case. Default: none.
    """

    def __init__(self, extra_lexicon: Mapping[str, float] | None = None):
        self.lexicon: dict[str, float] = dict(vader_lexicon())
        if extra_lexicon:
            self.lexicon.update(extra_lexicon)
        self._emojis = _emoji_table()
        self._emoji_chars = frozenset(self._emojis)

    def polarity_scores(self, text: str) -> dict[str, float]:
        """VADER's scores for ``text``: {"neg", "neu", "pos", "compound"}, as vaderSentiment rounds them.

        :param text: the text to score.
        """
        if not text.isascii() and not self._emoji_chars.isdisjoint(text):
            text = self._describe_emojis(text)
        tokens = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in text.split()
        ]
        if not tokens:
            return dict(_NO_SCORE)
        words = list(map(str.lower, tokens))
        sentiments = self._valences(tokens, words)
        if "but" in words:
            _weigh_around_but(sentiments, words.index("but"))
        return _scores(sentiments, text)

    def _describe_emojis(self, text: str) -> str:
        """``text`` with each emoji replaced by its description, as vaderSentiment replaces them.

        vaderSentiment puts a space before a description unless the emoji starts the text or follows
        a space (a tab or a newline does not count, nor does another emoji).
        """
        emojis = self._emojis
        parts = []
        previous = " "
        for char in text:
            description = emojis.get(char)
            if description is None:
                parts.append(char)
            elif previous == " ":
                parts.append(description)
            else:
                parts.append(" " + description)
            previous = char
        return "".join(parts)

    def _valences(self, tokens: list[str], words: list[str]) -> list[float]:
        """One valence per token, after VADER's rules for boosters, ALL CAPS, negation, "no",
        "least" and idioms; 0 (an int, as in vaderSentiment) for a token without sentiment.

        :param tokens: the text's tokens, punctuation stripped as VADER strips it.
        :param words: the same tokens, lower-cased.
        """
        values = list(map(self.lexicon.get, words))
        count = len(tokens)
        last = count - 1
        upper = sum(map(str.isupper, tokens))
        shouting = 0 < upper < count  # some but not all tokens in ALL CAPS
        has_no = "no" in words
        sentiments: list[float] = []
        append = sentiments.append
        for i, word in enumerate(words):
            base = values[i]
            if base is None or word in _BOOSTERS or (word == "kind" and i < last and words[i + 1] == "of"):
                append(0)
                continue
            valence = base
            if has_no:
                if word == "no" and i != last and values[i + 1] is not None:
                    valence = 0.0  # "no" negates the next lexicon word instead of counting itself
                if ((i > 0 and words[i - 1] == "no") or (i > 1 and words[i - 2] == "no")
                        or (i > 2 and words[i - 3] == "no" and words[i - 1] in _OR_NOR)):
                    valence = base * _NEGATION_FACTOR
            if shouting and tokens[i].isupper():
                if valence > 0:
                    valence += _CAPS_STEP
                else:
                    valence -= _CAPS_STEP
            if i > 0:
                valence = self._preceding(valence, tokens, words, values, i, shouting)
            append(valence)
        return sentiments

    @staticmethod
    def _preceding(valence: float, tokens: list[str], words: list[str], values: list, i: int,
                   shouting: bool) -> float:
        """Apply the up to three non-lexicon words before token ``i``: boosters, negations, idioms,
        then "least". Skipping ``valence + 0.0`` for a non-booster changes no score: it only turns
        -0.0 into 0.0, and every later use of a valence compares it with 0 or adds it to a sum
        that starts at +0.0."""
        one = words[i - 1]
        if values[i - 1] is None:
            step = _BOOSTERS.get(one)
            if step is not None:
                valence = valence + _booster_step(step, valence, tokens[i - 1], shouting)
            if one in _NEGATIONS or "n't" in one:
                valence = valence * _NEGATION_FACTOR
        if i > 1:
            two = words[i - 2]
            if values[i - 2] is None:
                step = _BOOSTERS.get(two)
                if step is not None:
                    valence = valence + _booster_step(step, valence, tokens[i - 2], shouting) * 0.95
                if two == "never" and one in _SO_THIS:
                    valence = valence * 1.25
                elif two == "without" and one == "doubt":
                    pass
                elif two in _NEGATIONS or "n't" in two:
                    valence = valence * _NEGATION_FACTOR
            if i > 2 and values[i - 3] is None:
                three = words[i - 3]
                step = _BOOSTERS.get(three)
                if step is not None:
                    valence = valence + _booster_step(step, valence, tokens[i - 3], shouting) * 0.9
                # vaderSentiment's condition reads "never so ... or so ...": "so" or "this" right
                # before the word boosts it even without "never" (operator precedence, kept).
                if (three == "never" and two in _SO_THIS) or one in _SO_THIS:
                    valence = valence * 1.25
                elif three == "without" and (two == "doubt" or one == "doubt"):
                    pass
                elif three in _NEGATIONS or "n't" in three:
                    valence = valence * _NEGATION_FACTOR
                valence = _idioms(valence, words, i)
        if one == "least" and values[i - 1] is None and (i == 1 or words[i - 2] not in _AT_VERY):
            valence = valence * _NEGATION_FACTOR
        return valence


def _booster_step(step: float, valence: float, token: str, shouting: bool) -> float:
    """A booster's step, signed like ``valence``, one caps step larger if it alone is shouted."""
    if valence < 0:
        step *= -1
    if shouting and token.isupper():
        if valence > 0:
            step += _CAPS_STEP
        else:
            step -= _CAPS_STEP
    return step


def _idioms(valence: float, words: list[str], i: int) -> float:
    """VADER's special-case idioms around word ``i`` (``i >= 3``), then two-word boosters before it."""
    three, two, one, zero = words[i - 3], words[i - 2], words[i - 1], words[i]
    if two in _IDIOM_WORDS or one in _IDIOM_WORDS:
        for candidate in (f"{one} {zero}", f"{two} {one} {zero}", f"{two} {one}", f"{three} {two} {one}",
                          f"{three} {two}"):
            if candidate in _IDIOMS:
                valence = _IDIOMS[candidate]
                break
    if zero in _IDIOM_WORDS:
        after = len(words) - 1 - i
        if after > 0:
            idiom = _IDIOMS.get(f"{zero} {words[i + 1]}")
            if idiom is not None:
                valence = idiom
        if after > 1:
            idiom = _IDIOMS.get(f"{zero} {words[i + 1]} {words[i + 2]}")
            if idiom is not None:
                valence = idiom
    for words_before in ((three, two, one), (three, two), (two, one)):
        step = _BOOSTER_PHRASES.get(words_before)
        if step is not None:
            valence = valence + step
    return valence


def _weigh_around_but(sentiments: list[float], but: int) -> None:
    """Halve the valences before the first "but" and multiply those after it by 1.5, in place.

    This reproduces vaderSentiment's loop, which finds each valence's position with
    ``list.index``: a valence equal to an earlier one (most often 0) rewrites that earlier slot
    instead of its own, so some valences are weighted twice or not at all.
    """
    for value in sentiments[:]:
        slot = sentiments.index(value)
        if slot < but:
            sentiments[slot] = value * 0.5
        elif slot > but:
            sentiments[slot] = value * 1.5


def _scores(sentiments: list[float], text: str) -> dict[str, float]:
    """The compound score and pos/neu/neg proportions, with VADER's punctuation emphasis."""
    total = float(sum(sentiments))
    exclamations = min(text.count("!"), 4)
    emphasis = exclamations * 0.292
    questions = text.count("?")
    if questions > 1:
        emphasis += questions * 0.18 if questions <= 3 else 0.96
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = total / math.sqrt(total * total + 15)
    compound = max(-1.0, min(1.0, compound))

    positive = negative = 0.0
    neutral = 0
    for value in sentiments:
        if value > 0:
            positive += value + 1.0
        elif value < 0:
            negative += value - 1.0
        else:
            neutral += 1
    if positive > abs(negative):
        positive += emphasis
    elif positive < abs(negative):
        negative -= emphasis
    whole = positive + abs(negative) + neutral
    return {
        "neg": round(abs(negative / whole), 3),
        "neu": round(abs(neutral / whole), 3),
        "pos": round(abs(positive / whole), 3),
        "compound": round(compound, 4),
    }


@functools.cache
def vader_lexicon() -> dict[str, float]:
    """VADER's lexicon {token: valence}, read from the installed vaderSentiment package."""
    text = _package_text("vader_lexicon.txt")
    lexicon: dict[str, float] = {}
    for line in text.rstrip("\n").split("\n"):
        if line:
            token, valence = line.strip().split("\t")[:2]
            lexicon[token] = float(valence)
    return lexicon


@functools.cache
def _emoji_table() -> dict[str, str]:
    """VADER's {emoji: description} for the emoji that are one character.

    vaderSentiment replaces the text's characters one at a time, so its entries of two or more
    code points (flags, skin tones, joined sequences) never match and are left out here. None of
    the single characters is ASCII, which is what lets an ASCII text skip the emoji pass.
    """
    table: dict[str, str] = {}
    for line in _package_text("emoji_utf8_lexicon.txt").rstrip("\n").split("\n"):
        emoji, description = line.strip().split("\t")[:2]
        table[emoji] = description
    single = {emoji: description for emoji, description in table.items() if len(emoji) == 1}
    if any(emoji.isascii() for emoji in single):
        raise ValueError("an ASCII character in vaderSentiment's emoji lexicon: the ASCII shortcut is wrong")
    return single


def _package_text(name: str) -> str:
    # Decoded from bytes, not opened in text mode: vaderSentiment reads with codecs.open, which
    # does no newline translation, and a stray "\r" must stay inside its line as it does there.
    return (importlib.resources.files("vaderSentiment") / name).read_bytes().decode("utf-8")
