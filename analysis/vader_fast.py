"""VADER, rewritten for speed: the same scores as vaderSentiment 3.3.2, to the last bit, 4x faster.

vaderSentiment spends most of its time redoing work: for every word it lower-cases the whole text
again (in its negation and idiom checks), copies the negation word list for every check, looks a
word up in the lexicon several times, and builds the emoji-free text one character at a time. This
module keeps VADER's rules, their order and the order of every floating-point operation, and does
each piece of work once per text, most of it in C loops (``map``, ``compress``, set operations):

- the words are lower-cased, stripped and looked up in the lexicon once (``_words``);
- only the words in the lexicon (1 in 7 in VADER's tweets, 1 in 14 in its Amazon reviews) get a
  valence; the rest are 0, and leaving zeros out changes no score (``_scores``);
- VADER's rules (boosters, negations, "no", "least", idioms...) are applied only to the lexicon
  words within reach of a word that a rule reacts to (``_RULE_WORDS``): elsewhere they would
  change nothing;
- the "but" rule skips the zeros, whose weighting no score can tell, and finds the first slot holding
  a valence on a heap per value instead of with ``list.index`` (``_weigh_around_but``): a text full of
  "but" costs O(n log n), not O(n^2);
- the emoji pass runs only for texts that hold an emoji, one ``str.replace`` per emoji.

``polarity_row`` gives the scores as a tuple, for callers that store them rather than a dict.

The lexicon and emoji files, and VADER's word lists and constants, are read from the installed
vaderSentiment package at run time, so both implementations always share the same data.
``tests/unit/test_vader_fast.py`` checks the scores against vaderSentiment itself.
"""

from __future__ import annotations

import functools
import heapq
import importlib.resources
import math
import string
from collections.abc import Mapping
from itertools import compress, repeat
from operator import is_not

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

# Any one word of a multi-word idiom or booster is enough to tell the windows where it cannot match,
# as it cannot without that word; the least common one rules out the most ("ass" of "bad ass").
_COMMON_WORDS = frozenset({"the", "of", "to", "for", "just", "bad", "right", "stop", "heart"})


def _key_word(phrase: str) -> str:
    return min(phrase.split(), key=lambda word: (word in _COMMON_WORDS, -len(word)))


_IDIOM_KEYS = frozenset(_key_word(idiom) for idiom in _IDIOMS if " " in idiom)
_BOOSTER_PHRASE_WORDS = frozenset(word for phrase in _BOOSTER_PHRASES for word in phrase)

# The words that a rule of VADER's reacts to, besides a word's own lexicon valence, ALL CAPS and
# "but" (which ``_weigh_around_but`` applies to the whole text): the boosters, the negations (and
# every word containing "n't", which ``_valences`` adds), "no", "so" and "this" (which multiply
# by 1.25), "least", "kind" (of "kind of"), and the key word of each multi-word booster and idiom.
# (The idioms of one word, "badass", are never looked up: VADER joins two or three words.)
_RULE_WORDS = frozenset(
    {word for word in _BOOSTERS if " " not in word}
    | _NEGATIONS
    | {"no", "so", "this", "least", "kind"}
    | {_key_word(phrase) for phrase in _BOOSTERS if " " in phrase}
    | _IDIOM_KEYS
)

_NO_SCORE = (0.0, 0.0, 0.0, 0.0)  # compound, pos, neu, neg of a text without tokens
# ... and of a text with no lexicon word: every valence is 0, so the compound is 0.0 and the
# neutral proportion 1.0 (the "but" rule only turns int zeros into 0.0, a zero all the same).
_NEUTRAL_SCORE = (0.0, 0.0, 1.0, 0.0)


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
        # Each emoji's replacement: a space and its description (see polarity_row).
        self._emoji_spaced = {emoji: " " + description for emoji, description in self._emojis.items()}

    def polarity_scores(self, text: str) -> dict[str, float]:
        """VADER's scores for ``text``: {"neg", "neu", "pos", "compound"}, as vaderSentiment rounds them.

        :param text: the text to score.
        """
        compound, pos, neu, neg = self.polarity_row(text)
        return {"neg": neg, "neu": neu, "pos": pos, "compound": compound}

    def polarity_row(self, text: str) -> tuple[float, float, float, float]:
        """``polarity_scores(text)`` as a tuple (compound, pos, neu, neg), without building the dict.

        :param text: the text to score.
        """
        if not text.isascii() and (emojis := self._emoji_chars.intersection(text)):
            # vaderSentiment replaces each emoji with its description, after a space unless the
            # emoji starts the text or follows a space. Always adding the space changes only the
            # whitespace, and VADER only splits the text on whitespace and counts its "!" and "?".
            # No replacement holds an emoji, so replacing one emoji after another is the same as
            # vaderSentiment's one pass.
            for emoji in emojis:
                text = text.replace(emoji, self._emoji_spaced[emoji])
        words = _words(text)
        if not words:
            return _NO_SCORE
        hits = list(compress(range(len(words)), map(self.lexicon.__contains__, words)))
        if not hits:
            return _NEUTRAL_SCORE
        return _scores(self._valences(text, words, hits), len(words), text)

    def _valences(self, text: str, words: list[str], hits: list[int]) -> list[float]:
        """The valences of the lexicon words, in order, after VADER's rules for boosters, ALL CAPS,
        negation, "no", "least" and idioms; in a text with "but", of all the tokens, 0 (an int, as
        in vaderSentiment) for a token without sentiment, weighted around the "but".

        :param text: the text.
        :param words: its words (``_words``).
        :param hits: the indices of the words in the lexicon, in order.
        """
        # VADER strips the tokens' punctuation first, but uses the tokens only for isupper(),
        # which stripping uncased ASCII punctuation does not change (a token it would strip to
        # nothing it keeps whole).
        tokens = text.split()
        # The words with "n't", negations to VADER, are rule words too; they need an apostrophe.
        negations = {word for word in words if "n't" in word} if "'" in text else None
        lexicon = self.lexicon
        valences: list[float] = []
        append = valences.append
        shouting = None  # some but not all tokens in ALL CAPS; computed when first needed
        for i in hits:
            # A rule word at token p can only change the valences at p - 2 ... p + 3: every rule
            # of VADER's looks at most three tokens back from the word it scores (boosters,
            # negations, "least", "no", "kind of", idioms) and two ahead (idioms: "bus stop",
            # scored at "bus").
            window = words[i - 3 if i > 3 else 0 : i + 3]
            if not _RULE_WORDS.isdisjoint(window) or (negations and not negations.isdisjoint(window)):
                if shouting is None:
                    shouting = _shouting(tokens)
                append(self._valence(tokens, words, i, shouting))
                continue
            # No rule word within reach: every rule leaves the lexicon valence as it is.
            valence = lexicon[words[i]]
            if tokens[i].isupper():
                if shouting is None:
                    shouting = _shouting(tokens)
                if shouting:
                    if valence > 0:
                        valence += _CAPS_STEP
                    else:
                        valence -= _CAPS_STEP
            append(valence)
        if "but" in words:
            sentiments: list[float] = [0] * len(words)
            for i, valence in zip(hits, valences, strict=True):
                sentiments[i] = valence
            _weigh_around_but(sentiments, words.index("but"))
            return sentiments
        return valences

    def _valence(self, tokens: list[str], words: list[str], i: int, shouting: bool) -> float:
        """The valence of lexicon word ``i``, after all of VADER's rules."""
        lexicon = self.lexicon
        word = words[i]
        last = len(words) - 1
        if word in _BOOSTERS or (word == "kind" and i < last and words[i + 1] == "of"):
            return 0
        base = valence = lexicon[word]
        if word == "no" and i != last and words[i + 1] in lexicon:
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
            valence = self._preceding(valence, tokens, words, i, shouting)
        return valence

    def _preceding(self, valence: float, tokens: list[str], words: list[str], i: int,
                   shouting: bool) -> float:
        """Apply the up to three non-lexicon words before token ``i``: boosters, negations, idioms,
        then "least". Skipping ``valence + 0.0`` for a non-booster changes no score: it only turns
        -0.0 into 0.0, and every later use of a valence compares it with 0 or adds it to a sum
        that starts at +0.0."""
        lexicon = self.lexicon
        one = words[i - 1]
        if one not in lexicon:
            step = _BOOSTERS.get(one)
            if step is not None:
                valence = valence + _booster_step(step, valence, tokens[i - 1], shouting)
            if one in _NEGATIONS or "n't" in one:
                valence = valence * _NEGATION_FACTOR
        if i > 1:
            two = words[i - 2]
            if two not in lexicon:
                step = _BOOSTERS.get(two)
                if step is not None:
                    valence = valence + _booster_step(step, valence, tokens[i - 2], shouting) * 0.95
                if two == "never" and one in _SO_THIS:
                    valence = valence * 1.25
                elif two == "without" and one == "doubt":
                    pass
                elif two in _NEGATIONS or "n't" in two:
                    valence = valence * _NEGATION_FACTOR
            if i > 2 and words[i - 3] not in lexicon:
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
        if one == "least" and one not in lexicon and (i == 1 or words[i - 2] not in _AT_VERY):
            valence = valence * _NEGATION_FACTOR
        return valence


def _words(text: str) -> list[str]:
    """VADER's words of ``text``: its whitespace-separated tokens, stripped of punctuation at both
    ends unless that leaves two characters or fewer (an emoticon such as ":)"), lower-cased."""
    if not text.isascii():
        return [(token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped).lower()
                for token in text.split()]
    # In ASCII, lower() changes letters only, in place, and strip() takes off punctuation only, so
    # the tokens of text.lower() are the lower-cased tokens, and stripping commutes with lowering.
    lowered = text.lower().split()
    words = list(map(str.strip, lowered, repeat(_PUNCTUATION)))
    # strip() returns a token with nothing to strip as it is: only the others need checking.
    for i in compress(range(len(words)), map(is_not, words, lowered)):
        if len(words[i]) <= 2:
            words[i] = lowered[i]
    return words


def _shouting(tokens: list[str]) -> bool:
    """VADER's ``allcap_differential``: some but not all tokens are in ALL CAPS."""
    return 0 < sum(map(str.isupper, tokens)) < len(tokens)


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
    # Each of the five idioms tried has "two" or "one" among its words, and its key word.
    if (two in _IDIOM_WORDS or one in _IDIOM_WORDS) and not _IDIOM_KEYS.isdisjoint((three, two, one, zero)):
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
    if two in _BOOSTER_PHRASE_WORDS:  # each of the three phrases tried has "two" among its words
        for words_before in ((three, two, one), (three, two), (two, one)):
            step = _BOOSTER_PHRASES.get(words_before)
            if step is not None:
                valence = valence + step
    return valence


def _weigh_around_but(sentiments: list[float], but: int) -> None:
    """Halve the valences before the first "but" and multiply those after it by 1.5, in place, as
    far as the scores can tell.

    This reproduces vaderSentiment's loop, which finds each valence's position with
    ``list.index``: a valence equal to an earlier one rewrites that earlier slot instead of its
    own, so some valences are weighted twice or not at all. Its steps for the zeros are left out:
    they only rewrite the first zero, with a zero (0.0 or -0.0), which neither finds another
    valence nor changes a score (a zero only counts as neutral; ``_scores``). Every other valence
    is read where vaderSentiment reads it: no step rewrites a slot after its own.

    ``list.index`` made that loop quadratic (a 40,000-character text full of "but" took 0.24-0.47 s).
    Here each value keeps a min-heap of the slots holding it, so "the first slot holding v" is the
    top of v's heap: the step that rewrites that slot pops it there and pushes it on the heap of
    its new value. Equal values share a heap as ``==`` finds them (dict keys compare as ``==``
    does: 1 and 1.0 are one key; zeros never reach the heaps). O(n log n) for n words, and the
    heaps of a text's few distinct valences stay small in practice.
    """
    slots: dict[float, list[int]] = {}
    for at in compress(range(len(sentiments)), sentiments):
        slots.setdefault(sentiments[at], []).append(at)  # ascending: already a heap
    for at in list(compress(range(len(sentiments)), sentiments)):
        # A slot is only ever rewritten by the step of a slot at or after it, so this one still
        # holds its own value, and its value's heap holds it: the top is the first equal slot.
        value = sentiments[at]
        holders = slots[value]
        slot = holders[0]
        if slot == but:
            continue
        weighted = value * 0.5 if slot < but else value * 1.5
        sentiments[slot] = weighted
        heapq.heappop(holders)
        if not holders:
            del slots[value]
        heapq.heappush(slots.setdefault(weighted, []), slot)


def _scores(sentiments: list[float], count: int, text: str) -> tuple[float, float, float, float]:
    """(compound, pos, neu, neg), with VADER's punctuation emphasis and rounding.

    :param sentiments: the valences of the text's tokens, some or all of its zeros left out. They
        change no score: adding a zero to a sum changes it only if it is -0.0, and a sum that
        starts at +0 (as ``sum``'s does) is never -0.0, as x + y is -0.0 only if both are.
        Below, a zero only counts as neutral.
    :param count: the text's tokens.
    :param text: the text, for its "!" and "?".
    """
    total = float(sum(sentiments))
    # VADER's emphasis: 0.292 for each "!" up to 4, and 0.18 for each "?" if 2 or 3, 0.96 if more.
    # Most texts have neither, and "in" costs less than count: 0 "!" give 0 * 0.292, 0.0.
    emphasis = min(text.count("!"), 4) * 0.292 if "!" in text else 0.0
    if "?" in text:
        questions = text.count("?")
        if questions > 1:
            emphasis += questions * 0.18 if questions <= 3 else 0.96
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = total / math.sqrt(total * total + 15)
    if compound > 1.0:
        compound = 1.0
    elif compound < -1.0:
        compound = -1.0

    # The zeros (int 0, 0.0 or -0.0) only count as neutral: filter(None, ...) leaves the others,
    # in order, so the two sums add the same values in the same order as vaderSentiment's loop.
    positive = negative = 0.0
    signed = list(filter(None, sentiments))
    for value in signed:
        if value > 0:
            positive += value + 1.0
        else:
            negative += value - 1.0
    neutral = count - len(signed)
    if positive > abs(negative):
        positive += emphasis
    elif positive < abs(negative):
        negative -= emphasis
    whole = positive + abs(negative) + neutral
    return (round(compound, 4), round(abs(positive / whole), 3), round(abs(neutral / whole), 3),
            round(abs(negative / whole), 3))


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
    if not set(single).isdisjoint("".join(single.values())):
        raise ValueError("an emoji in a description in vaderSentiment's emoji lexicon: replacing one "
                         "emoji after another is wrong")
    return single


def _package_text(name: str) -> str:
    # Decoded from bytes, not opened in text mode: vaderSentiment reads with codecs.open, which
    # does no newline translation, and a stray "\r" must stay inside its line as it does there.
    return (importlib.resources.files("vaderSentiment") / name).read_bytes().decode("utf-8")
