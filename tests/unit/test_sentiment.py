"""Tests of analysis.sentiment: the outage lexicon fixes what plain VADER misses, and nothing else."""

from __future__ import annotations

import array
import importlib.metadata
import importlib.resources
import pickle
import random
import re
import statistics
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis import classifier, sentiment
from analysis.sentiment import Score, classify, score_text, score_texts, scorer_id

TWEETS = Path(__file__).parent.parent / "fixtures" / "vader" / "tweets_GroundTruth.txt"


@pytest.fixture(scope="module")
def plain_vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def read_ground_truth(path: Path) -> tuple[list[str], list[float]]:
    """Texts and human mean ratings from a VADER ``ID<TAB>MEAN<TAB>TEXT`` file with CRLF lines."""
    texts, means = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        _, mean, text = line.split("\t", 2)
        texts.append(text)
        means.append(float(mean))
    return texts, means


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("the website is down again", "negative"),
        ("can't log in, outage all day", "negative"),
        ("site is back up, finally working", "positive"),
    ],
)
def test_lexicon_catches_what_plain_vader_misses(plain_vader, text, label):
    assert plain_vader.polarity_scores(text)["compound"] == 0.0
    score = score_text(text)
    assert score.label == label
    assert abs(score.compound) > 0.3


def test_tweets_correlation_stays_within_001_of_plain_vader(plain_vader):
    texts, means = read_ground_truth(TWEETS)
    assert len(texts) == 4200
    plain = [plain_vader.polarity_scores(text)["compound"] for text in texts]
    ours = [score.compound for score in score_texts(texts)]
    plain_r = statistics.correlation(plain, means)
    ours_r = statistics.correlation(ours, means)
    assert plain_r > 0.85  # the published figure is 0.881 with VADER's 2014 lexicon
    assert abs(ours_r - plain_r) <= 0.01


def test_scorer_id_names_vader_version_lexicon_digest_and_model_digest():
    lexicon = (importlib.resources.files("dipwatch.resources.lexicon") / "outage.tsv").read_bytes()
    vader = importlib.metadata.version("vaderSentiment")
    model = classifier.model_digest(classifier.model_bytes(), classifier.complaint_bytes())
    assert scorer_id() == f"vader-{vader}+outage-{sentiment._lexicon_digest(lexicon)}+model-{model}"
    try:
        sentiment.use_scorer("vader")
        assert scorer_id() == f"vader-{vader}+outage-{sentiment._lexicon_digest(lexicon)}"
        plain = score_text("@shop please help, can't check out, thanks")
        assert plain.row[4:] == (0.0, 0.0, 1.0, 0.0)  # VADER's label as certainties, not counted
    finally:
        sentiment.use_scorer("model")
    assert scorer_id().endswith(f"+model-{model}")


def test_model_digest_changes_with_the_weights_or_the_complaint_lexicon():
    weights, complaints = classifier.model_bytes(), classifier.complaint_bytes()
    digest = classifier.model_digest(weights, complaints)
    assert classifier.model_digest(weights + b" ", complaints) != digest
    assert classifier.model_digest(weights, complaints.replace(b"still waiting", b"still waitin")) != digest


def test_unknown_scorer_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="scorer: expected one of model, vader, got 'bert'"):
        sentiment.use_scorer("bert")


def test_lexicon_digest_changes_with_any_byte():
    lexicon = (importlib.resources.files("dipwatch.resources.lexicon") / "outage.tsv").read_bytes()
    digest = sentiment._lexicon_digest(lexicon)
    assert len(digest) == 8
    assert int(digest, 16) >= 0
    assert sentiment._lexicon_digest(lexicon.replace(b"outage\t-1.8", b"outage\t-1.9")) != digest
    assert sentiment._lexicon_digest(lexicon + b"\n") != digest


@pytest.mark.parametrize(
    "text",
    [
        "the app isn't working",
        "the app isn\u2019t working",  # typographic apostrophe, as phones type it
        "still not loading",
        "page won't load",
        "Can\u2019t   Log In",
        "SITE IS DOWN",
        "it's not back up yet",  # VADER's negation flips our recovery phrase, rightly
        "never fixed",
    ],
)
def test_outage_texts_are_negative(text):
    assert score_text(text).label == "negative"


def test_phrase_with_negation_inside_does_not_negate_the_next_word():
    # If "can't log in" became a token containing "n't", VADER would treat it as a negation
    # and flip "awful" to positive.
    assert score_text("can't log in awful").compound < score_text("awful").compound < 0


def test_not_down_is_not_negative():
    assert score_text("the site is not down at all").label != "negative"


def test_typographic_apostrophe_negates_like_ascii(plain_vader):
    # Plain VADER misses the negation in "isn\u2019t" and calls this positive.
    assert plain_vader.polarity_scores("isn\u2019t good")["compound"] > 0
    assert score_text("isn\u2019t good") == score_text("isn't good")
    assert score_text("isn\u2019t good").label == "negative"


def test_shouting_an_outage_phrase_makes_it_more_negative():
    assert score_text("ugh the SITE IS DOWN").compound < score_text("ugh the site is down").compound


def test_phrases_match_whole_words_only():
    # "is down" must not match inside "this downloads" or "is downloading".
    assert score_text("this downloads while the file is downloading").compound == 0.0


def test_empty_text_is_neutral_zero():
    score = score_text("")
    assert score.compound == 0.0
    assert score.label == "neutral"


@pytest.mark.parametrize("value", [None, 1.5, b"site is down", float("nan")])
def test_non_str_raises_type_error(value):
    with pytest.raises(TypeError, match="expects a str"):
        score_text(value)


def test_score_texts_keeps_order_and_rejects_non_str():
    texts = ["site is down", "", "back online"]
    assert score_texts(texts) == [score_text(text) for text in texts]
    assert score_texts(iter(texts))[2].label == "positive"
    with pytest.raises(TypeError):
        score_texts(["fine", None])


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (0.05, "positive"),
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),
        (1.0, "positive"),
        (-1.0, "negative"),
    ],
)
def test_labels_at_the_thresholds(compound, label):
    assert classify(compound) == label
    assert Score(compound=compound, pos=0.0, neu=1.0, neg=0.0, p_negative=0.0, p_neutral=1.0,
                 p_positive=0.0, counted=0.0).label == label


def test_score_is_frozen():
    score = score_text("outage")
    with pytest.raises(AttributeError):
        score.compound = 1.0  # type: ignore[misc]


def test_parse_lexicon_folds_spellings_and_rejects_bad_lines():
    lexicon = sentiment._parse_lexicon("# comment\n\nCan\u2019t  Log In\t-2\ncant log in\t-2\n")
    assert lexicon == {"can't log in": -2.0, "cant log in": -2.0}
    with pytest.raises(ValueError, match="line 1: expected 'phrase<TAB>valence'"):
        sentiment._parse_lexicon("outage -1.8\n")
    with pytest.raises(ValueError, match="line 2: valence must be a number"):
        sentiment._parse_lexicon("outage\t-1.8\ndown\tbad\n")
    with pytest.raises(ValueError, match="between -4 and 4"):
        sentiment._parse_lexicon("outage\t-5\n")
    with pytest.raises(ValueError, match="line 2: 'cant log in' is a spelling of 'cant_log_in'"):
        sentiment._parse_lexicon("can't log in\t-2\ncant log in\t-1\n")


def test_shipped_lexicon_parses():
    lexicon = (importlib.resources.files("dipwatch.resources.lexicon") / "outage.tsv").read_text(
        encoding="utf-8"
    )
    parsed = sentiment._parse_lexicon(lexicon)
    assert 100 <= len(parsed) <= 160
    assert parsed["is down"] < 0 < parsed["back up"]


# Issue 5, point 7: the brand-outage additions (evidence in data/lexicon/outage.tsv and
# benchmarks/lexicon_eval.py).
@pytest.mark.parametrize("text", [
    "Payment declined again, third time today",
    "I can't sign in to my account",
    "Locked out of my account since this morning",
    "I cannot check out on the website",
    "My order was canceled without a word",
    "Package never arrived",
    "Where is my order? Ordered two weeks ago",
    "Still waiting on my refund",
    "Another data breach at this company",
    "Our power is out",
    "Not even an apology from them",
])
def test_brand_outage_complaints_are_negative_where_plain_vader_is_not(plain_vader, text):
    assert plain_vader.polarity_scores(text)["compound"] > sentiment.NEGATIVE_THRESHOLD
    assert score_text(text).label == "negative"


def test_us_and_uk_spellings_of_cancelled_score_alike():
    assert score_text("my order was canceled").compound == score_text("my order was cancelled").compound
    assert score_text("the flight was canceled").compound == score_text("the flight was cancelled").compound


@pytest.mark.parametrize("text", [
    "I placed an order for delivery and paid at checkout",
    "The compensation package was announced",
    "Please log in with your payment details",
])
def test_plain_commerce_nouns_stay_as_vader_scores_them(plain_vader, text):
    # The human-rated texts with these nouns average near 0, so the lexicon gives them no valence.
    assert score_text(text).compound == plain_vader.polarity_scores(text)["compound"]


@pytest.mark.parametrize("name", ["amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets"])
def test_other_human_rated_sets_stay_within_001_of_plain_vader(plain_vader, name):
    path = TWEETS.parent / f"{name}_GroundTruth.txt"
    if not path.exists():
        pytest.skip(f"{path.name} is not in tests/fixtures/vader")
    texts, means = read_ground_truth(path)
    plain = [plain_vader.polarity_scores(t)["compound"] for t in texts]
    ours = [s.compound for s in score_texts(texts, processes=1)]
    assert statistics.correlation(ours, means) >= statistics.correlation(plain, means) - 0.01


# The phrase filter (analysis.sentiment._PhraseFilter) must change no result: _score_with and
# _join_phrases against the plain regex path, the code before the filter, on generated texts.

def plain_score_with(scorer: sentiment._Scorer, text: str) -> tuple[float, float, float, float]:
    """``_score_with`` as it was before the filter: fold apostrophes, then the whole regex."""
    text = scorer.phrases.sub(sentiment._phrase_token, text.translate(sentiment._APOSTROPHES))
    scores = scorer.analyzer.polarity_scores(text)
    return scores["compound"], scores["pos"], scores["neu"], scores["neg"]


# Characters to put next to or inside phrases: word and non-word, ASCII and not, the four that
# re.IGNORECASE matches to ASCII letters, apostrophes, whitespace that \s matches, emoji.
GLUE = ["", " ", "  ", ".", ",", "!", "?", "-", "_", "1", "a", "Z", "\u00e9", "\u00c9", "\u00df", "\u017f",
        "\u212a", "\u0130", "\u0131", "\U0001F600", "\u2764\ufe0f", "'", "\u2019", "\u2018", "\u00a0",
        "\t", "\n", "\x1c", "\u2003", "\u200d", "\u0301", "\u4e0d", "\ud800"]
SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\x1c", "\u2003", " \r\n ", "\u3000", "\u200b"]
FOLDS = {"s": "\u017f", "k": "\u212a", "K": "\u212a", "i": "\u0131", "I": "\u0130"}
FILLER = ["the", "site", "is", "not", "down", "log", "in", "power", "out", "again", "so", "cafe",
          "caf\u00e9", "na\u00efve", "stra\u00dfe", "\u212aelvin", "\u017fite", "ISN'T", "isn\u2019t",
          "working_again", "is_down", "down2", "3is", "GOOD", "bad", ":)", "\U0001F621\U0001F621"]


def recase(text: str, rng: random.Random) -> str:
    mode = rng.randrange(4)
    if mode == 0:
        return text
    if mode == 1:
        return text.upper()
    if mode == 2:
        return text.title()
    return "".join(char.upper() if rng.random() < 0.5 else char for char in text)


def mangle(phrase: str, rng: random.Random) -> str:
    """A spelling of ``phrase`` the regex may or may not match: odd case, odd whitespace,
    typographic apostrophes, letters that only re.IGNORECASE folds to ASCII, a word cut short."""
    words = recase(phrase, rng).split()
    if rng.random() < 0.2:
        word = rng.randrange(len(words))
        words[word] = words[word][:-1] or words[word]
    text = words[0]
    for word in words[1:]:
        text += (rng.choice(SPACES) if rng.random() < 0.4 else " ") + word
    if rng.random() < 0.2:
        text = text.replace("'", rng.choice(["\u2019", "\u2018"]))
    if rng.random() < 0.15:
        spots = [i for i, char in enumerate(text) if char in FOLDS]
        if spots:
            spot = rng.choice(spots)
            text = text[:spot] + FOLDS[text[spot]] + text[spot + 1 :]
    return text


def generated_texts(phrases: list[str], count: int, seed: int) -> list[str]:
    """Texts of phrases (mangled or not) and filler words, glued by odd characters or spaces."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 6)):
            part = mangle(rng.choice(phrases), rng) if rng.random() < 0.6 else rng.choice(FILLER)
            parts += (part, rng.choice(GLUE) if rng.random() < 0.5 else " ")
        text = rng.choice(GLUE) + "".join(parts[:-1]) + rng.choice(GLUE)
        texts.append(text)
    return texts


@pytest.fixture(scope="module")
def lexicon_phrases() -> list[str]:
    return list(sentiment._scorer().phrase_filter.phrases)


def test_phrase_filter_joins_exactly_what_the_plain_regex_joins(lexicon_phrases):
    scorer = sentiment._scorer()
    assert scorer.phrase_filter is not None
    texts = generated_texts(lexicon_phrases, 12000, seed=11)
    folded = [text.translate(sentiment._APOSTROPHES) for text in texts]
    expected = [scorer.phrases.sub(sentiment._phrase_token, text) for text in folded]
    got = [sentiment._join_phrases(scorer, text) for text in folded]
    assert [(t, g, e) for t, g, e in zip(folded, got, expected, strict=True) if g != e] == []
    # The texts exercise both outcomes, on ASCII texts and others, and the folding letters.
    joined = [text for text, result in zip(folded, expected, strict=True) if result != text]
    assert 0.3 * len(texts) < len(joined) < 0.9 * len(texts)
    assert sum(not text.isascii() for text in joined) > 1000
    assert sum(any(char in text for char in sentiment._FOLDS_TO_ASCII) for text in joined) > 200


def test_score_with_equals_the_plain_regex_path(lexicon_phrases):
    scorer = sentiment._scorer()
    texts = generated_texts(lexicon_phrases, 3000, seed=12) + read_ground_truth(TWEETS)[0][:1000]
    assert [sentiment._score_with(scorer, text)[:4] for text in texts] == [
        plain_score_with(scorer, text) for text in texts
    ]


@pytest.mark.parametrize("seed", range(6))
def test_phrase_filter_keeps_the_regex_order_of_overlapping_phrases(seed):
    # Made-up lexicons of phrases that share words, so that several alternatives can match at one
    # position and in one text: the subset regex must take the one the whole regex takes.
    rng = random.Random(seed)
    vocabulary = ["is", "down", "site", "is_down", "back", "up", "again", "no", "power", "can't", "log",
                  "in", "x1", "down-time"]
    phrases = list(dict.fromkeys(
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(2, 4))) for _ in range(25)
    ))
    scorer = sentiment._Scorer(analyzer=None, phrases=sentiment._phrase_pattern(phrases),
                               phrase_filter=sentiment._phrase_filter(phrases))
    assert scorer.phrase_filter is not None
    texts = generated_texts(phrases, 2000, seed=seed)
    expected = [scorer.phrases.sub(sentiment._phrase_token, text) for text in texts]
    assert [sentiment._join_phrases(scorer, text) for text in texts] == expected
    assert sum(result != text for text, result in zip(texts, expected, strict=True)) > 500


def test_phrase_filter_is_off_for_phrases_it_cannot_reason_about():
    assert sentiment._phrase_filter(["caf\u00e9 down", "is down"]) is None
    assert sentiment._phrase_filter(["is down", "- -"]) is None
    assert sentiment._phrase_filter([]) is None
    scorer = sentiment._Scorer(analyzer=None, phrases=sentiment._phrase_pattern(["caf\u00e9 down"]),
                               phrase_filter=sentiment._phrase_filter(["caf\u00e9 down"]))
    assert sentiment._join_phrases(scorer, "the CAF\u00c9 DOWN") == "the CAF\u00c9_DOWN"


def test_folds_to_ascii_lists_every_character_ignorecase_matches_to_ascii():
    # Measured on this Python's re: a non-ASCII character that a case-insensitive ASCII literal or
    # class matches must be in _FOLDS_TO_ASCII, or the filter could drop a phrase that matches.
    everything = "".join(map(chr, range(0x80, 0x110000)))
    found = set(re.findall("[\x00-\x7f]", everything, re.IGNORECASE))
    for char in map(chr, range(0x80)):
        found.update(re.findall(re.escape(char), everything, re.IGNORECASE))
    assert found == set(sentiment._FOLDS_TO_ASCII)


def test_scoring_pool_gives_the_in_process_scores_in_order(lexicon_phrases):
    texts = generated_texts(lexicon_phrases, 3000, seed=21) + read_ground_truth(TWEETS)[0][:3000] + [""]
    scorer = sentiment._scorer()
    rows = [sentiment._score_with(scorer, text) for text in texts]
    with sentiment.ScoringPool(2) as pool:
        assert pool.rows(texts)() == rows
        assert pool.submit(texts)() == [Score(*row) for row in rows]
        assert pool.map_rows(sentiment._score_chunk, texts[:700])() == rows[:700]
        assert pool.rows([])() == []
    with sentiment.ScoringPool(1) as pool:  # no workers: scored here, when asked for
        assert pool.rows(texts)() == rows
        assert pool.submit(texts)() == [Score(*row) for row in rows]
        assert pool.map_rows(sentiment._score_chunk, texts[:700])() == rows[:700]


def test_score_chunk_sends_the_rows_bit_for_bit():
    rows = [(-0.0, 0.0, 1.0, 0.0, 0.1, 0.8, 0.1, 0.0), (0.1, 0.2, 0.3, 0.4, 1 / 3, 1 / 3, 1 / 3, 1.0),
            (-0.9999, 0.0, 0.001, 0.999, 0.9999999, 1e-7, 0.0, 1.0)]
    packed = array.array("d", [number for row in rows for number in row])
    sent = pickle.loads(pickle.dumps(packed))  # noqa: S301 (our own bytes, as the workers send them)
    assert repr(list(sentiment._unflatten(sent))) == repr(rows)
    with pytest.raises(ValueError, match="zip"):
        list(sentiment._unflatten(array.array("d", [0.0] * 5)))


def test_chunks_keep_every_worker_busy_to_the_end():
    # An import's block of 20,000 posts: several chunks a worker, so that the last is short.
    assert sentiment._chunk_size(20_000, 2) * 2 * 4 <= 20_000  # 4 chunks a worker at least
    assert sentiment._chunk_size(5_000, 2) >= sentiment.PARALLEL_CHUNK_MIN
    assert sentiment._chunk_size(10**6, 2) == sentiment.PARALLEL_CHUNK
    assert sentiment._chunk_size(0, 2) >= 1


def test_a_non_str_among_many_raises_naming_it():
    texts = ["fine"] * 100 + [b"bytes"] + ["fine"]
    with pytest.raises(TypeError, match="expects a str, got bytes"):
        sentiment._check_texts(texts)
    sentiment._check_texts(texts[:100])
    with pytest.raises(TypeError, match="got NoneType"), sentiment.ScoringPool(1) as pool:
        pool.submit(["fine", None])


def test_scores_of_rows_are_the_scores_the_constructor_makes():
    rows = [(-0.0, 0.0, 1.0, 0.0, 0.2, 0.7, 0.1, 1.0), (0.5, 0.25, 0.75, 0.0, 0.0, 0.1, 0.9, 0.0),
            (-1.0, 0.0, 0.1, 0.9, 0.8, 0.15, 0.05, 1.0)]
    made = sentiment._scores_of(rows)
    assert made == [Score(*row) for row in rows]
    assert [repr(score) for score in made] == [repr(Score(*row)) for row in rows]
    assert made[2].label == "negative"
    assert [score.sentiment_class for score in made] == ["neutral", "positive", "negative"]
    assert made[1].row == rows[1]
    with pytest.raises(AttributeError):
        made[0].compound = 1.0  # type: ignore[misc]
