"""The corpus path end to end on generated words: index build -> search -> senses -> the explorer's senses view.

Words mix the characters where matching goes wrong: case pairs whose lower() and casefold() differ (ß, ς, ﬁ, İ,
ǅ, ŉ), combining marks (typed decomposed, NFD, or precomposed, NFC), right-to-left scripts, emoji, and words that
are all punctuation. Every spelling of a word that Unicode's canonical caseless match (D145: NFD(casefold(NFD(x))),
computed here independently of contextvec.text.fold_word) calls equal must find the same uses, and those uses
are exactly the corpus words it calls equal; no call ends in anything but a documented ContextvecError.
Examples per test: a fifth of the Hypothesis profile's max_examples (20 by default, 400 with --hypothesis-profile
long); docs/reliability.md records the last count.
"""

from __future__ import annotations

import inspect
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contextvec import Embedder
from contextvec.analysis.occurrences import INFLECT, collect_occurrences, surface_forms
from contextvec.errors import InvalidInputError
from contextvec.text import fold_word, split_words

pytest.importorskip("lancedb")
pytest.importorskip("sklearn")

CASE_PAIRS = "ßẞςσΣﬁﬂİǅǆǄŉſKΩÅµ"  # lower(), upper() and casefold() disagree on these
LETTERS = "abcdefgxyzABCXYZéÉñçøæαβγΔΛжЖяЯשלוםאבمرحبا"  # Latin, Greek, Cyrillic, Hebrew, Arabic
MARKS = "\u0301\u0308\u0327\u0323\u05b8\u064e"  # acute, diaeresis, cedilla, dot below, Hebrew qamats, Arabic fatha
EMOJI = ["😀", "👍🏽", "🏳️\u200d🌈", "👩\u200d👩\u200d👧"]
PUNCT = "!?.,;:—…“”()'\"-"
CONTEXTS = [("the river", "ran by."), ("שלום", "مرحبا."), ("We sat on", "all day!"), ("«", "»")]

LETTER = st.tuples(st.sampled_from(LETTERS + CASE_PAIRS), st.sampled_from(["", "", "", *MARKS])).map("".join)
WORDS = st.one_of(
    st.lists(LETTER, min_size=1, max_size=5).map("".join),
    st.lists(LETTER, min_size=1, max_size=5).map(lambda ls: unicodedata.normalize("NFD", "".join(ls))),
    st.sampled_from(EMOJI),
    st.text(alphabet=PUNCT, min_size=1, max_size=3),
)
EXAMPLES = max(10, settings.default.max_examples // 5)
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
RAN: Counter[str] = Counter()  # examples run per test (printed with -s; docs/reliability.md)


def canon(word: str) -> str:
    """Unicode's canonical caseless form (D145), the independent reference for fold_word."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", word).casefold())


def spellings(word: str) -> list[str]:
    """The word as a user might type it: any case, precomposed or decomposed."""
    forms = [word, word.upper(), word.lower(), word.casefold(), word.swapcase(), word.title()]
    forms += [unicodedata.normalize(f, w) for w in list(forms) for f in ("NFC", "NFD")]
    return list(dict.fromkeys(forms))


def alone(word: str) -> bool:
    """`word` between spaces in a text is one word, exactly these characters."""
    text = f"x {word} y"
    return split_words(text).tolist() == [[0, 1], [2, 2 + len(word)], [3 + len(word), 4 + len(word)]]


def corpus_of(words: list[str]) -> list[str]:
    lines = []
    for w in words:
        for i, v in enumerate(s for s in spellings(w) if alone(s)):
            left, right = CONTEXTS[(len(lines) + i) % len(CONTEXTS)]
            lines.append(f"{left} {v} {right}")
    return [*lines, "Nothing to see here.", "עוד משפט בלי המילה."]


def expected_uses(lines: list[str], query: str) -> set[tuple[str, int]]:
    """(doc id, char start) of every corpus word that is canonically caseless-equal to `query`."""
    return {
        (f"c.txt:{n}", s)
        for n, line in enumerate(lines, 1)
        for s, e in split_words(line).tolist()
        if canon(line[s:e]) == canon(query)
    }


def build(lines: list[str], folder: Path, emb: Embedder) -> object:
    from contextvec.index import Index, build_index

    (folder / "c.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index(folder / "c.txt", folder / "idx", model="tiny-bert", embedder=emb, batch_docs=16)
    return Index.open(folder / "idx", embedder=emb)


@SETTINGS
@given(words=st.lists(WORDS, min_size=1, max_size=3, unique_by=canon))
def test_every_spelling_of_a_word_finds_the_same_uses_through_index_search_and_senses(
    bert_embedder: Embedder, words: list[str]
) -> None:
    from contextvec.explore.jobs import Job
    from contextvec.explore.senses_view import senses_from_corpus, senses_from_index

    RAN["index -> search -> senses -> explorer"] += 1
    lines = corpus_of(words)
    with tempfile.TemporaryDirectory() as tmp:
        idx = build(lines, Path(tmp), bert_embedder)
        for word in words:
            if not alone(word) or len(split_words(word)) != 1:  # several words, e.g. "!?": refused, clearly
                with pytest.raises(InvalidInputError, match="must be one word"):
                    idx.occurrences(word)  # type: ignore[attr-defined]
                continue
            uses_of_word = expected_uses(lines, word)
            queries = [q for q in spellings(word) if alone(q) and len(split_words(q)) == 1]
            for n_query, query in enumerate(queries):
                expected = expected_uses(lines, query)
                if canon(query) == canon(word):
                    assert expected == uses_of_word  # the reference agrees these are one word
                assert fold_word(query) == fold_word(word) or canon(query) != canon(word)
                if not expected:
                    with pytest.raises(InvalidInputError, match="occurs in the index"):
                        idx.occurrences(query)  # type: ignore[attr-defined]
                    continue
                occ = idx.occurrences(query)  # type: ignore[attr-defined]
                assert len(occ) == len(expected) and len(set(occ.target)) == 1
                assert all(canon(f) == canon(query) for f in occ.form)
                if n_query >= 3 and canon(query) == canon(word):
                    continue  # same stored rows as the spellings before it: search and senses once is enough
                line = next(ln for n, ln in enumerate(lines, 1) if any(d == f"c.txt:{n}" for d, _ in expected))
                s, e = next(
                    tuple(sp) for sp in split_words(line).tolist() if canon(line[sp[0] : sp[1]]) == canon(query)
                )
                hits = idx.search_like(line, s, e, k=len(lines) * 4)  # type: ignore[attr-defined]
                assert {(h.doc_id, h.start) for h in hits} == expected
                assert all(h.text[slice(*h.highlight)] == h.word for h in hits)
                if len(expected) < 3:
                    with pytest.raises(InvalidInputError, match="at least 3 occurrences"):
                        senses_from_index(Job("j", total=1), idx, query, None, 100)  # type: ignore[arg-type]
                    continue
                payload = senses_from_index(Job("j", total=1), idx, query, None, 100)  # type: ignore[arg-type]
                assert len(payload["sentence"]) == len(expected) and sum(c["size"] for c in payload["clusters"]) == len(
                    expected
                )
                for sentence, (a, b) in zip(payload["sentence"], payload["span"], strict=True):
                    assert canon(sentence[a:b]) == canon(query)
            if len(uses_of_word) >= 3:  # the same word found by embedding the corpus (no index) in the explorer
                job = Job("j", total=len(lines))
                payload = senses_from_corpus(job, bert_embedder, lines, word.upper(), None, 100)
                assert len(payload["sentence"]) == len(uses_of_word) and job.done == len(lines)


@SETTINGS
@given(word=WORDS, inflect=st.booleans())
def test_surface_forms_are_folded_once_and_found_in_any_spelling(word: str, inflect: bool) -> None:
    RAN["surface forms"] += 1
    if len(split_words(word.strip())) != 1:
        with pytest.raises(InvalidInputError, match="must be one word"):
            surface_forms([word], inflect)
        return
    forms = surface_forms([word], inflect)
    assert all(f == fold_word(f) for f in forms) and set(forms.values()) == {fold_word(word.strip())}
    text = f"{word} and {word.upper()} and {unicodedata.normalize('NFD', word)}"
    words = [text[s:e] for s, e in split_words(text).tolist()]
    found = [w for w in words if fold_word(w) in forms]
    same = [w for w in words if canon(w) == canon(word)]
    assert same and (found == same if not inflect else set(same) <= set(found))


def test_fold_word_is_unicodes_canonical_caseless_match_on_the_hard_cases() -> None:
    for a, b in [("Straße", "STRASSE"), ("ΟΔΟΣ", "οδος"), ("ﬁle", "FILE"), ("cafe\u0301", "CAFÉ"), ("ǅemal", "ǄEMAL")]:
        assert a.lower() != b.lower() or a != b
        assert fold_word(a) == fold_word(b) and canon(a) == canon(b)
    assert fold_word("ı") != fold_word("I")  # dotless ı is its own letter in Unicode's default folding (not Turkish)
    assert unicodedata.is_normalized("NFC", fold_word("cafe\u0301"))


def test_inflect_has_one_default_in_python_cli_and_http() -> None:
    """Issue 26: `senses` matched -s/-ed/-ing forms by default and `search` did not, so the README's showcase
    clustered *interesting* against *interest*. Every entry point now takes INFLECT (off) unless told otherwise."""
    from contextvec.analysis.occurrences import find_occurrences
    from contextvec.cli.analysis import senses
    from contextvec.cli.index import search
    from contextvec.cli.plots import plot_senses
    from contextvec.explore.schemas import SensesRequest
    from contextvec.explore.senses_view import senses_from_corpus, senses_from_index
    from contextvec.index.occurrences import read_occurrences
    from contextvec.index.search import Index

    functions = [
        collect_occurrences,
        find_occurrences,
        read_occurrences,
        Index.search_like,
        Index.search_vector,
        Index.occurrences,
        senses_from_corpus,
        senses_from_index,
        senses,
        plot_senses,
        search,
    ]
    defaults = {f.__qualname__: inspect.signature(f).parameters["inflect"].default for f in functions}
    defaults["explorer POST /explore/senses"] = SensesRequest.model_fields["inflect"].default
    try:
        from contextvec.serve.search_route import SearchRequest

        defaults["server POST /search"] = SearchRequest.model_fields["inflect"].default
    except ImportError:  # the [server] extra
        pass
    assert INFLECT is False and set(defaults.values()) == {INFLECT}, defaults


def test_senses_of_a_word_are_of_that_word_unless_inflect(bert_embedder: Embedder) -> None:
    texts = ["an interest rate", "an interesting book", "their interests", "INTEREST paid", "interested parties"]
    occ = collect_occurrences(bert_embedder, texts, ["interest"])
    assert occ.form == ["interest", "INTEREST"]
    wide = collect_occurrences(bert_embedder, texts, ["interest"], inflect=True)
    assert wide.form == ["interest", "interesting", "interests", "INTEREST", "interested"]


def test_a_use_is_shown_in_a_window_around_its_word(bert_embedder: Embedder) -> None:
    long = " ".join(["word"] * 40) + " the bank of the river " + " ".join(["tail"] * 40) + "."
    occ = collect_occurrences(bert_embedder, [long, "A bank.", "bank " + "x " * 60], ["bank"])
    left, word, right = occ.window(0, width=60)
    assert word == "bank" and left.startswith("…") and right.endswith("…") and left.endswith("the ")
    assert 40 <= len(left + word + right) <= 62 and " word" in left and " tail" in right
    assert occ.window(1, width=60) == ("A ", "bank", ".")
    left, word, right = occ.window(2, width=60)
    assert left == "" and word == "bank" and right.endswith("…") and len(word + right) >= 55
    for i in range(len(occ)):
        s, e = occ.span_in_sentence(i)
        assert occ.sentence[i][s:e] == "bank"


def test_window_never_cuts_the_word(bert_embedder: Embedder) -> None:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(["a", "bb", "ccc", "bank", "dddddddd"], size=int(n))) for n in rng.integers(1, 80, 8)]
    texts = [t + " bank" for t in texts]
    occ = collect_occurrences(bert_embedder, texts, ["bank"])
    for i in range(len(occ)):
        for width in (1, 10, 30, 80, 500):
            left, word, right = occ.window(i, width)
            assert word == "bank"
            whole = occ.sentence[i]
            assert left.lstrip("…") in whole and right.rstrip("…") in whole


def test_report_examples_run() -> None:
    """Runs last in this module: the count of examples each property test ran (see docs/reliability.md)."""
    print(f"\nhypothesis examples run: {dict(RAN)}")
    assert not RAN or all(n >= 1 for n in RAN.values())
