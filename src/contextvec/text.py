"""Texts and words: validation, and the one definition of a "word" that every level of contextvec uses.

A word is a Unicode word segment (UAX #29 word boundaries, as the `regex` package's `(?w)` flag implements them)
that holds a visible character, with separators trimmed from its edges. So "didn't", "O'Neil", "3.14", "1,000.5"
and "e-mail"'s parts ("e", "-", "mail") are what a reader expects; each punctuation mark and each emoji (with its
skin tone or ZWJ sequence) is its own word; Han and hiragana characters are one word each (no dictionary). One
tailoring: an initialism of single letters and periods keeps its final period ("U.S.", "e.g.").
Whitespace, control and format characters (zero-width space, BOM, direction marks) separate words and belong to
none; a format character or joiner *inside* a segment ("co\u00adop", "c\u200dd") stays inside it.
Offsets are Python string indices (code points) into the original, unmodified text. See docs/embedding.md.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import regex

from contextvec.errors import InvalidInputError, SpanError

_SEP = r"\s\p{Cc}\p{Cf}\p{Z}\p{Cs}"
_SEGMENT_RE = regex.compile(r"(?wV1s).+?\b")  # text up to the next UAX #29 word boundary
_SEP_CHAR_RE = regex.compile(rf"[{_SEP}]")
_TRIM_RE = regex.compile(rf"^[{_SEP}]*(.*?)[{_SEP}]*$", regex.DOTALL)  # a segment's separators at its edges
_INITIALISM_RE = regex.compile(r"\p{L}(?:\.\p{L})+")  # "U.S", "e.g": a final "." that follows joins them
_LONE_SURROGATE_RE = regex.compile(r"[\ud800-\udfff]")

Spans = npt.NDArray[np.int64]  # (W, 2): [start, end) character offsets


@dataclass(frozen=True)
class Document:
    """One text to embed, with its words as character spans into `text`.

    Made by `make_document`, it is taken as it is wherever texts are accepted (checked once, never split again).
    Made by hand, its words are checked against the text's own: each span must start and end on word boundaries
    and may cover several words (like a pre-split word), in order, without overlaps.
    """

    text: str
    words: Spans  # (W, 2)
    _checked: bool = field(default=False, repr=False, compare=False)  # True only from make_document

    def word_strings(self) -> list[str]:
        return [self.text[s:e] for s, e in self.words.tolist()]


@functools.lru_cache(maxsize=4096)
def _is_sep(ch: str) -> bool:
    return _SEP_CHAR_RE.match(ch) is not None


def split_words(text: str) -> Spans:
    """Character spans (W, 2) of the words of `text` (see the module docstring for the rule)."""
    spans: list[tuple[int, int]] = []
    for m in _SEGMENT_RE.finditer(text):
        seg = m.group()
        if seg.isspace():
            continue
        s, e = m.span()
        if _is_sep(seg[0]) or _is_sep(seg[-1]):  # trim separators at the edges (rare: BOM, controls, marks)
            t = _TRIM_RE.match(seg)
            assert t is not None  # the pattern matches any string
            s, e = s + t.start(1), s + t.end(1)
            if s == e:
                continue  # only separators
        if spans and seg == "." and spans[-1][1] == s and _INITIALISM_RE.fullmatch(text, *spans[-1]):
            spans[-1] = (spans[-1][0], e)  # "U.S" + "." -> "U.S."
            continue
        spans.append((s, e))
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2)


def fold_word(word: str) -> str:
    """The one key by which two spellings of a word match: Unicode's canonical caseless form (case-folded, then
    NFC), so "Straße", "STRASSE" and "strasse" match, and so do "café" typed precomposed (NFC) and decomposed (NFD).

    Every word comparison in contextvec (index rows, search filters, occurrences, senses, find_word) goes through
    here. It keys matching only; texts and results keep their original characters and offsets.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", word).casefold())


def _check_text(text: object, name: str) -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"{name} is a {type(text).__name__}, not a str; pass strings (or lists of words).")
    if not text.strip():
        what = "empty" if not text else "only whitespace"
        raise InvalidInputError(f"{name} is {what}: there is nothing to embed. Remove it from the input.")
    bad = _LONE_SURROGATE_RE.search(text)
    if bad is not None:
        raise InvalidInputError(
            f"{name} has a lone surrogate U+{ord(bad.group()):04X} at char {bad.start()}, which no tokenizer "
            "can encode; decode the input with errors='replace' or remove it."
        )
    return text


def make_document(item: str | Sequence[str] | Document, index: int, name: str | None = None) -> Document:
    """Validate one input (a text, a pre-split list of words, or a Document) and find its words.

    Pre-split words are joined with single spaces; each given word is exactly one word, whatever it contains.
    A `Document` (what this function returns) is checked, not split again: corpus jobs validate each text once
    while reading it and hand the Document to the embedder. `name` says how error messages refer to the input
    (default "text {index}").
    """
    name = name or f"text {index}"
    if isinstance(item, Document):
        return _check_document(item, name)
    if isinstance(item, str):
        text = _check_text(item, name)
        words = split_words(text)
        if len(words) == 0:
            raise InvalidInputError(
                f"{name} ({text[:40]!r}) has no visible characters (only separators such as zero-width or control "
                "characters): there is nothing to embed. Remove it from the input."
            )
        return Document(text=text, words=words, _checked=True)
    if not isinstance(item, Sequence):
        raise InvalidInputError(
            f"input {index} is a {type(item).__name__}; pass a str or a list of str (pre-split words)."
        )
    if len(item) == 0:
        raise InvalidInputError(f"input {index} is an empty word list: there is nothing to embed.")
    spans: list[tuple[int, int]] = []
    pos = 0
    for j, word in enumerate(item):
        if not isinstance(word, str):
            raise InvalidInputError(
                f"word {j} of input {index} is a {type(word).__name__} ({word!r}); pre-split words must be str."
            )
        if len(split_words(word)) == 0:  # "", spaces, or only zero-width/control characters such as "\x00"
            raise InvalidInputError(
                f"word {j} of input {index} is {'empty' if not word else f'{word!r}, without a visible character'}; "
                "every pre-split word needs a visible character."
            )
        spans.append((pos, pos + len(word)))
        pos += len(word) + 1
    text = _check_text(" ".join(item), name)
    return Document(text=text, words=np.asarray(spans, dtype=np.int64), _checked=True)


def _check_document(doc: Document, name: str) -> Document:
    """A Document from `make_document` as it is; one made by hand checked against the text's own words."""
    if doc._checked:
        return doc
    own = make_document(doc.text, 0, name)  # a valid text, and its words by the rule
    w = doc.words
    if not isinstance(w, np.ndarray) or w.ndim != 2 or w.shape[1] != 2 or w.dtype.kind not in "iu" or len(w) == 0:
        raise InvalidInputError(
            f"{name}: Document.words must be a non-empty (W, 2) integer array of [start, end) spans; "
            "make Documents with contextvec.text.make_document, or pass a list of words."
        )
    words = w.astype(np.int64)
    for k, (s, e) in enumerate(words.tolist()):
        if k and s < words[k - 1, 1]:
            raise InvalidInputError(
                f"{name}: Document word {k} ({s}, {e}) starts before the word before it ends; words must be in "
                "order and must not overlap."
            )
        try:
            locate_span(own, s, e, k)
        except SpanError as exc:
            raise InvalidInputError(f"{name}: Document word {k}: {exc}") from None
    return Document(doc.text, words, _checked=True)


def make_documents(items: Sequence[str | Sequence[str] | Document]) -> list[Document]:
    """Validate a batch of inputs; a lone str is refused (it would be read as a list of characters)."""
    if isinstance(items, str):
        raise InvalidInputError("pass a list of texts, not a single str: e.g. embed_words([text]).")
    if not isinstance(items, Sequence):  # a generator or other one-pass iterable has no length to batch by
        raise InvalidInputError(f"pass a list of texts, not a {type(items).__name__}: e.g. embed_words(list(texts)).")
    if len(items) == 0:
        raise InvalidInputError("no texts were given; pass a non-empty list of texts.")
    return [make_document(item, i) for i, item in enumerate(items)]


def locate_span(doc: Document, start: object, end: object, index: int) -> tuple[int, int]:
    """The first and last word (inclusive) of span [start, end) of `doc`; it must start and end on word edges."""
    n = len(doc.text)
    if (
        isinstance(start, bool)
        or isinstance(end, bool)
        or not isinstance(start, int | np.integer)
        or not isinstance(end, int | np.integer)
    ):
        raise SpanError(f"span {index}: start and end must be integers, got {start!r} and {end!r}.")
    s, e = int(start), int(end)
    if not 0 <= s < e <= n:
        why = "is empty" if s == e else "is reversed" if s > e else f"is outside the text (length {n})"
        raise SpanError(f"span {index} ({s}, {e}) {why}; give 0 <= start < end <= {n}.")
    starts, ends = doc.words[:, 0], doc.words[:, 1]
    i = int(np.searchsorted(starts, s, side="left"))
    j = int(np.searchsorted(ends, e, side="left"))
    if i >= len(starts) or starts[i] != s or j >= len(ends) or ends[j] != e or i > j:
        near = _words_near(doc, s, e)
        raise SpanError(
            f"span {index} ({s}, {e}) = {doc.text[s:e]!r} does not start and end on word boundaries; "
            f"words there: {near}. Use the offsets of whole words."
        )
    return i, j


def find_word(text: str, word: str, occurrence: int = 1, *, index: int = 0) -> tuple[int, int]:
    """Char span of the `occurrence`-th (1-based) whole-word, case-insensitive match of `word` in `text`."""
    target = [fold_word(word[s:e]) for s, e in split_words(word).tolist()]
    if not target:
        raise InvalidInputError(f"word={word!r} has no visible characters; give the word to compare, e.g. 'bank'.")
    if occurrence < 1:
        raise InvalidInputError(f"occurrence={occurrence} must be 1 or more (1 = the first use).")
    doc = make_document(text, index)
    words = [fold_word(text[s:e]) for s, e in doc.words.tolist()]
    k = len(target)
    hits = [i for i in range(len(words) - k + 1) if words[i : i + k] == target]
    if len(hits) < occurrence:
        found = f"it occurs {len(hits)} time(s)" if hits else "it does not occur as a whole word"
        raise SpanError(f"text {index} ({text[:60]!r}): cannot take use {occurrence} of {word!r}; {found}.")
    i = hits[occurrence - 1]
    return int(doc.words[i, 0]), int(doc.words[i + k - 1, 1])


def _words_near(doc: Document, s: int, e: int) -> str:
    hits = [(a, b) for a, b in doc.words.tolist() if b > s - 1 and a < e + 1][:4]
    return ", ".join(f"{doc.text[a:b]!r} at ({a}, {b})" for a, b in hits) or "none"
