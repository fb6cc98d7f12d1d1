"""analysis.vader_fast scores exactly as vaderSentiment does, and parallel scoring changes no score.

Every comparison is on ``repr`` of the two dicts, which is stricter than ``==``: it also tells 0.0 from
-0.0 and checks the key order, so equal reprs mean the same dict to the last bit.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
)

from analysis import sentiment, vader_fast
from analysis.vader_fast import Analyzer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vader"
CORPORA = (
    "tweets_GroundTruth.txt",
    "amazonReviewSnippets_GroundTruth.txt",
    "movieReviewSnippets_GroundTruth.txt",
    "nytEditorialSnippets_GroundTruth.txt",
)

# Words that trigger VADER's rules: negations, "no ... or/nor", "least", "never so", "without doubt",
# boosters and dampeners (two-word ones too), "kind of", idioms, "but", and ALL CAPS spellings.
MODIFIERS = ("not", "isn't", "never", "no", "or", "nor", "least", "at", "very", "so", "this", "without",
             "doubt", "kind", "of", "sort", "kinda", "just", "enough", "the", "EXTREMELY", "NOT", "but")
HEADS = ("good", "BAD", "bomb", "mustard", "no", "love")
VOCABULARY = MODIFIERS + HEADS + (
    "great", "terrible", "funny", "hate", "sad", "ok", "Acme", "app", "is", "and", "shit", "cut", "yeah",
    "right", "kiss", "death", "to", "die", "for", "bad", "ass", "badass", "bus", "stop", "beating",
    "heart", "slightly", "hardly", "uh-uh", "don't", "aint", "n't", "BUT", "But", "kind-of", "sort of",
    ":)", ":(", ":-D", "<3", "!", "!!", "!!!!!", "?", "??", "???", "?!?!", "...", ",", '"good"', "(great)",
    "outage", "down", "cant_log_in", "back_up", "working", "finally", "\u2019", "caf\u00e9", "\u0130stanbul",
    "\U0001F600", "\U0001F494", "\U0001F44D", "\U0001F44D\U0001F3FD", "\U0001F1FA\U0001F1F8", "\u2764",
    "\u2639", "\u00a9", "\ufb01ne", "\u200d",
)
SEPARATORS = (" ", " ", " ", " ", "", "  ", "\t", "\n", "! ", ", ")


@pytest.fixture(scope="module")
def outage_tokens() -> dict[str, float]:
    lexicon = sentiment._parse_lexicon(sentiment._lexicon_bytes().decode("utf-8"))
    return {sentiment._token(phrase): valence for phrase, valence in lexicon.items()}


@pytest.fixture(scope="module")
def reference(outage_tokens) -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(outage_tokens)
    return analyzer


@pytest.fixture(scope="module")
def fast(outage_tokens) -> Analyzer:
    return Analyzer(outage_tokens)


def read_texts(name: str) -> list[str]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 2)[2] for line in lines]


def mismatches(reference, fast, texts) -> list[tuple[str, dict, dict]]:
    found = []
    for text in texts:
        expected, got = reference.polarity_scores(text), fast.polarity_scores(text)
        if repr(got) != repr(expected):
            found.append((text, expected, got))
    return found


def shout(word: str, rng: random.Random) -> str:
    return rng.choice((word, word, word.upper(), word.title()))


def random_texts(count: int, seed: int) -> list[str]:
    """Texts of 1-12 rule words, randomly cased, joined by spaces, nothing, tabs or punctuation."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [shout(rng.choice(VOCABULARY), rng) for _ in range(rng.randint(1, 12))]
        texts.append("".join(word + rng.choice(SEPARATORS) for word in words).rstrip(" "))
    return texts


def test_lexicon_and_emojis_are_vaders():
    plain = SentimentIntensityAnalyzer()
    ours = Analyzer()
    assert ours.lexicon == plain.lexicon
    assert len(ours.lexicon) > 7000
    assert ours._emojis == {emoji: text for emoji, text in plain.emojis.items() if len(emoji) == 1}


def test_extra_lexicon_replaces_and_adds_like_lexicon_update(outage_tokens):
    plain = SentimentIntensityAnalyzer()
    plain.lexicon.update(outage_tokens)
    assert Analyzer(outage_tokens).lexicon == plain.lexicon
    assert Analyzer().lexicon["offline"] == -0.5
    assert Analyzer(outage_tokens).lexicon["offline"] == outage_tokens["offline"] == -1.0  # ours wins
    later = Analyzer()
    later.lexicon.update(outage_tokens)  # updating the attribute afterwards works too
    text = "the app went offline, cant_log_in"
    assert later.polarity_scores(text) == plain.polarity_scores(text)
    assert later.polarity_scores(text)["compound"] < Analyzer().polarity_scores(text)["compound"]


@pytest.mark.parametrize("name", CORPORA)
def test_same_scores_on_every_human_rated_text(reference, fast, name):
    texts = read_texts(name)
    assert len(texts) in {4200, 3708, 10605, 5190}
    assert mismatches(reference, fast, texts) == []


def test_same_scores_on_every_window_of_three_modifiers(reference, fast):
    # Every rule looks at most three words back: this walks all of them before each head word.
    texts = [" ".join((*mods, head)) for mods in itertools.product(MODIFIERS, repeat=3) for head in HEADS[:3]]
    assert len(texts) == 23**3 * 3
    sample = random.Random(3).sample(texts, 12_000)
    assert mismatches(reference, fast, sample) == []


def test_same_scores_on_random_rule_texts(reference, fast):
    assert mismatches(reference, fast, random_texts(10_000, seed=11)) == []


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "\t\n ", "!", "!!!!!!", "???", "?!", "...", ".,;:", ":)", ":-(", "'", "''''",
        "good", "GOOD", "GOOD good", "GOOD BAD", "VERY good", "very GOOD stuff", "EXTREMELY BAD service",
        "NO good",
        "no", "no no", "no good", "no no good", "NO NO NO good", "no or nor good", "no bad or good",
        "good no",
        "not good", "isn't good", "isnt good", "not very good", "never so good", "never this bad",
        "never good",
        "so good", "this good", "without doubt good", "without a doubt good", "without good", "uh-uh good",
        "least good", "at least good", "very least good", "the least good", "least",
        "kind of good", "kind of", "kind", "good kind of", "sort of bad", "kinda bad", "just enough good",
        "the bomb", "this is the bomb", "it is the shit", "cut the mustard", "it will cut the mustard ok",
        "yeah right good", "kiss of death", "a kiss of death for them", "to die for", "what a bad ass movie",
        "I love it but it is slow", "good but bad", "but", "but good", "good but", "BUT good", "good BUT bad",
        "good good but bad bad", "ok ok but but good", "0 but 0",
        "great!!!", "great!!!!!!!!", "great??", "great???", "great????", "bad!?!?", "bad ! ! ?",
        "\U0001F600", "\U0001F600\U0001F600", "good\U0001F600", "good \U0001F600", "good\t\U0001F600",
        "\U0001F600 good", "\U0001F494!!", "\U0001F44D\U0001F3FD great", "\U0001F1FA\U0001F1F8 win",
        " \U0001F600 ", "\U0001F600\U0001F494 good", "a\U0001F600b\U0001F600c \U0001F494\U0001F600",
        "not \U0001F600", "\U0001F600 but \U0001F494", "isn't \U0001F44D",
        "caf\u00e9 tr\u00e8s bon", "\u0130STANBUL GOOD", "STRA\u00dfE bad", "\ufb01ne", "na\u00efve \u2764",
        "good\u200dbad", "\u00a9 good", "\u2019good\u2019", "\u4e0d\u597d",
        "\U0001d4f0\U0001d4f8\U0001d4f8\U0001d4ed",
        "ALL CAPS HAPPY DAY", "Title Case Happy Day", "outage cant_log_in back_up", "SITE IS DOWN",
    ],
)
def test_same_scores_on_edge_cases(reference, fast, text):
    assert repr(fast.polarity_scores(text)) == repr(reference.polarity_scores(text))


def test_same_scores_at_every_distance_from_a_rule_word(reference, fast):
    # Rules reach three words back and (idioms) two ahead of the word they score; vader_fast skips
    # them for lexicon words farther from every rule word, so each distance is tried, both ways.
    rule_words = sorted({*MODIFIERS, "bus", "stop", "yeah", "right", "kiss", "death", "beating", "bomb",
                         "shit", "bad", "ass", "die", "sort", "enough", "kinda", "won't", "NEVER", "Least"})
    texts = [
        f"{before}{' x' * gap} {head}{after}"
        for rule in rule_words
        for gap in range(5)
        for head in ("good", "BAD", "heart", "stop", "death")
        for before, after in ((rule, ""), ("x", f"{' x' * gap} {rule} it"))
    ]
    assert mismatches(reference, fast, texts) == []


def test_same_scores_when_but_rewrites_an_earlier_equal_valence(reference, fast):
    # vaderSentiment's "but" loop finds each valence with list.index: halving a word worth 2v makes
    # it equal to a later word worth v, whose weight then goes to the earlier slot.
    words = {valence: word for word, valence in fast.lexicon.items() if word.isalpha()}
    pairs = [(words[2 * valence], words[valence]) for valence in words if 2 * valence in words][:20]
    assert len(pairs) >= 10
    texts = [text for double, single in pairs for text in (
        f"{double} {single} but ok", f"{double} {single} {single} but {double}", f"x but {double} {single}",
        f"-{double} -{single} BUT {single} {double}",
    )]
    assert mismatches(reference, fast, texts) == []


# Words whose valences collide once halved or multiplied by 1.5 (2.0 halved is 1.0, 1.0 x 1.5 is 1.5),
# so the "but" rule's list.index finds another word's slot, and ALL CAPS, boosters and negations that
# make further values.
BUT_WORDS = ("but", "BUT", "good", "GOOD", "bad", "love", "hate", "ok", "great", "sad", "very", "not", "x",
             "no", "won", "harm", "like", "fine", "!", "?")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(BUT_WORDS), min_size=1, max_size=400))
def test_same_scores_on_texts_full_of_but(reference, fast, words):
    text = " ".join(words)
    assert repr(fast.polarity_scores(text)) == repr(reference.polarity_scores(text))


def test_same_scores_on_long_texts_full_of_but(reference, fast):
    rng = random.Random(29)
    texts = [" ".join(rng.choice(BUT_WORDS) for _ in range(size)) for size in (2000, 5000, 8000)]
    texts.append(("good but bad but great but sad " * 1300)[:40_000])
    assert mismatches(reference, fast, texts) == []


class CountedValence(float):
    """A valence that counts how often it is compared for equality (no clock in the test)."""

    compared = 0

    def __eq__(self, other):
        CountedValence.compared += 1
        return float.__eq__(self, other)

    __hash__ = float.__hash__


def test_but_rule_work_grows_linearly_with_the_text():
    # vaderSentiment's "but" rule looks every valence up with list.index, comparing it with every
    # slot before its own: 4x the comparisons for twice the words. Counted, not timed.
    fast = Analyzer({"meh": CountedValence(1.3), "argh": CountedValence(-1.7)})
    counts = []
    for repeat_count in (500, 1000, 2000):
        CountedValence.compared = 0
        fast.polarity_row("meh argh but " * repeat_count)
        counts.append(CountedValence.compared)
    assert counts[2] <= 2.2 * counts[1] <= 4.84 * counts[0], counts


def test_polarity_row_is_polarity_scores_as_a_tuple(fast):
    for text in [*random_texts(2000, seed=13), "", "good", "\U0001F600 good!!"]:
        scores = fast.polarity_scores(text)
        row = fast.polarity_row(text)
        assert repr(row) == repr((scores["compound"], scores["pos"], scores["neu"], scores["neg"]))


def test_words_are_vaders_lower_cased_tokens():
    odd = "A: :) ;-) ... 'x' '' --- GOOD!!! (ok) a_b _x_ ,,,no,,, \u0130\u0130! \u212a!! STRA\u00dfE."
    texts = [*random_texts(3000, seed=17), *read_texts("tweets_GroundTruth.txt")[:1000], odd, odd.upper()]
    for text in texts:
        assert vader_fast._words(text) == [word.lower() for word in SentiText(text).words_and_emoticons]


def test_rule_words_hold_a_word_of_every_rule():
    # What lets vader_fast skip the rules for a lexicon word with no rule word within reach.
    rule_words = vader_fast._RULE_WORDS
    assert {word for word in BOOSTER_DICT if " " not in word} <= rule_words
    assert set(NEGATE) <= rule_words
    assert {"no", "so", "this", "least", "kind"} <= rule_words
    for phrase in [*SPECIAL_CASES, *BOOSTER_DICT]:
        if " " in phrase:
            assert rule_words.intersection(phrase.split()), phrase
    assert "but" not in rule_words  # applied to the whole text instead


def test_same_scores_on_very_long_texts(reference, fast):
    tweets = read_texts("tweets_GroundTruth.txt")
    long_texts = [" ".join(tweets[:300]), " ".join(tweets[300:600]).upper(), "good " * 3000 + "but bad"]
    assert mismatches(reference, fast, long_texts) == []


def test_score_text_equals_vadersentiment_with_the_outage_lexicon():
    # The whole pipeline, phrase rewriting and apostrophe folding included, on texts that use it.
    texts = [*read_texts("tweets_GroundTruth.txt")[:500], "Can\u2019t   Log In!!",
             "SITE IS DOWN but back up now"]
    reference = sentiment._reference_scorer()
    assert [sentiment.score_text(text) for text in texts] == [
        sentiment.Score(*sentiment._score_with(reference, text)) for text in texts
    ]


def test_parallel_scoring_returns_the_sequential_list_in_order():
    texts = read_texts("tweets_GroundTruth.txt") + random_texts(4000, seed=5)
    assert len(texts) >= sentiment.PARALLEL_MIN_TEXTS
    assert sentiment.score_texts(texts, processes=2) == sentiment.score_texts(texts, processes=1)


def test_small_batches_and_one_process_stay_in_this_process(monkeypatch):
    def no_pool(texts, workers):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(sentiment, "_score_in_pool", no_pool)
    texts = random_texts(sentiment.PARALLEL_MIN_TEXTS, seed=7)
    assert len(sentiment.score_texts(texts[:-1], processes=2)) == len(texts) - 1
    assert len(sentiment.score_texts(texts, processes=1)) == len(texts)
    with pytest.raises(AssertionError, match="a pool was started"):
        sentiment.score_texts(texts, processes=2)


def test_large_batch_with_a_non_str_raises_before_scoring(monkeypatch):
    monkeypatch.setattr(sentiment, "_score_in_pool", lambda texts, workers: pytest.fail("scored"))
    with pytest.raises(TypeError, match="expects a str, got NoneType"):
        sentiment.score_texts(["fine"] * 6000 + [None], processes=2)
