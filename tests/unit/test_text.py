import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contextvec.errors import InvalidInputError, SpanError
from contextvec.text import Document, locate_span, make_document, make_documents, split_words


def words_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_words(text).tolist()]


def test_words_follow_unicode_word_segmentation() -> None:
    assert words_of("We sat on the bank.") == ["We", "sat", "on", "the", "bank", "."]
    # issue 14: contractions, names, numbers and initialisms stay whole; hyphens and other punctuation split
    assert words_of("didn't e-mail 3.14") == ["didn't", "e", "-", "mail", "3.14"]
    assert words_of("O'Neil paid 1,000.50 in the U.S. (e.g. cash).") == [
        "O'Neil", "paid", "1,000.50", "in", "the", "U.S.", "(", "e.g.", "cash", ")", ".",
    ]  # fmt: skip
    assert words_of("dogs' 'quoted' end.") == ["dogs", "'", "'", "quoted", "'", "end", "."]


def test_combining_marks_stay_with_their_letter_and_separators_split() -> None:
    text = "cafe\u0301 a\u200bb \ufeffbom x\u2028y z\x07w \u0301"
    assert words_of(text) == ["cafe\u0301", "a", "b", "bom", "x", "y", "z", "w", "\u0301"]
    assert words_of("c\u200dd co\u00adop") == ["c\u200dd", "co\u00adop"]  # a joiner or soft hyphen inside stays


def test_emoji_cjk_and_rtl_are_words() -> None:
    assert words_of("😀 世界 שלום مرحبا") == ["😀", "世", "界", "שלום", "مرحبا"]  # Han: one word per character
    assert words_of("👍🏽👨\u200d👩\u200d👧🇫🇷🇩🇪!") == ["👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "🇩🇪", "!"]


@given(st.text(max_size=200))
def test_word_spans_index_the_original_text_in_order(text: str) -> None:
    spans = split_words(text)
    assert spans.shape[1] == 2
    assert np.all(spans[:, 0] < spans[:, 1])
    assert np.all(spans[1:, 0] >= spans[:-1, 1])  # sorted, disjoint
    for s, e in spans.tolist():
        assert text[s:e].strip() == text[s:e]  # no whitespace at the edges
    covered = np.zeros(len(text), dtype=bool)
    for s, e in spans.tolist():
        covered[s:e] = True
    for i, ch in enumerate(text):  # every letter or digit belongs to a word
        if ch.isalnum():
            assert covered[i]


def test_pre_split_words_keep_their_boundaries() -> None:
    doc = make_document(["New York", "didn't", "."], 0)
    assert doc.text == "New York didn't ."
    assert doc.word_strings() == ["New York", "didn't", "."]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("", "text 0 is empty"),
        ("   \n\t", "only whitespace"),
        ("\u200b\u200d", "no visible characters"),
        ("bad \ud800 surrogate", "lone surrogate U\\+D800 at char 4"),
        (["a", ""], "word 1 of input 0 is empty"),
        ([], "empty word list"),
        (42, "int"),
    ],
)
def test_bad_inputs_are_refused_with_a_precise_message(item: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_document(item, 0)  # type: ignore[arg-type]


def test_a_document_is_checked_not_split_again() -> None:
    doc = make_document("We sat on the bank.", 0)
    assert make_document(doc, 3) is doc
    by_hand = Document("We sat on the bank.", np.asarray([[0, 6], [14, 18]], dtype=np.int32))  # may span words
    checked = make_document(by_hand, 0)
    assert checked.word_strings() == ["We sat", "bank"] and checked.words.dtype == np.int64
    assert make_document(checked, 0) is checked


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (np.zeros((0, 2), dtype=np.int64), "non-empty \\(W, 2\\) integer array"),
        (np.asarray([0, 2]), "non-empty \\(W, 2\\) integer array"),
        (np.asarray([[0.0, 2.0]]), "non-empty \\(W, 2\\) integer array"),
        (np.asarray([[0, 2], [1, 6]]), "word 1 \\(1, 6\\) starts before the word before it ends"),
        (np.asarray([[0, 1]]), "word 0: span 0 \\(0, 1\\) = 'W' does not start and end on word boundaries"),
        (np.asarray([[2, 3]]), "word 0: span 0 \\(2, 3\\) = ' ' does not start and end on word boundaries"),
        (np.asarray([[0, 2], [3, 3]]), "word 1: span 1 \\(3, 3\\) is empty"),
        (np.asarray([[0, 2], [3, 99]]), "outside the text \\(length 6\\)"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_word(words: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"text 0: Document.*{message}"):
        make_document(Document("We sat", words), 0)
    with pytest.raises(InvalidInputError, match="only whitespace"):
        make_document(Document("   ", np.asarray([[0, 1]])), 0)


def test_a_single_string_is_not_taken_for_a_list_of_texts() -> None:
    with pytest.raises(InvalidInputError, match="not a single str"):
        make_documents("hello")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="no texts"):
        make_documents([])


def test_locate_span_finds_word_range_and_refuses_partial_words() -> None:
    doc = make_document("We sat on the bank of the river.", 0)
    assert locate_span(doc, 14, 18, 0) == (4, 4)
    assert locate_span(doc, 14, 31, 0) == (4, 7)  # "bank of the river"
    with pytest.raises(SpanError, match="word boundaries.*'bank' at \\(14, 18\\)"):
        locate_span(doc, 15, 18, 0)
    with pytest.raises(SpanError, match="is empty"):
        locate_span(doc, 5, 5, 0)
    with pytest.raises(SpanError, match="outside the text"):
        locate_span(doc, 20, 99, 0)
    with pytest.raises(SpanError, match="reversed"):
        locate_span(doc, 18, 14, 0)
    with pytest.raises(SpanError, match="word boundaries"):
        locate_span(doc, 2, 3, 0)  # only whitespace
    with pytest.raises(SpanError, match="integers"):
        locate_span(doc, "14", 18, 0)


def _reference_words(text: str) -> list[tuple[int, int]]:
    """The rule written plainly: cut at every UAX #29 boundary, trim separators, join initialisms' final period."""
    import regex

    sep = regex.compile(r"[\s\p{Cc}\p{Cf}\p{Z}\p{Cs}]")
    cuts = sorted({m.start() for m in regex.finditer(r"(?wV1)\b", text)} | {0, len(text)})
    spans: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(cuts):
        while a < b and sep.match(text[a]):
            a += 1
        while b > a and sep.match(text[b - 1]):
            b -= 1
        if a == b:
            continue
        if (
            spans
            and text[a:b] == "."
            and spans[-1][1] == a
            and regex.fullmatch(r"\p{L}(\.\p{L})+", text[slice(*spans[-1])])
        ):
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


@given(
    st.text(
        alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(" .'\u200b\ufeff\u0301")),
        max_size=80,
    )
)
def test_split_words_follows_the_rule_as_written(text: str) -> None:
    assert [tuple(w) for w in split_words(text).tolist()] == _reference_words(text)
