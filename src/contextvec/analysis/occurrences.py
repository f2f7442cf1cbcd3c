"""Every occurrence of a word (or several) across a corpus: its text, sentence, char span and contextual vector.

Texts are streamed in chunks; only texts that contain a target word go through the model (as spans of the
spine's `embed_spans`), and only the matched occurrences are kept, so memory is the occurrences, not the corpus.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import regex

from contextvec.data.wordnet import inflections
from contextvec.errors import InvalidInputError
from contextvec.options import LayerPoolingArg, LayersArg, SubwordPooling
from contextvec.protocol import EmbedderProtocol
from contextvec.text import fold_word, split_words

F32 = npt.NDArray[np.float32]
# The one default for `inflect` (also match -s/-ed/-ing/... forms of a target word) in Python, the CLI and HTTP:
# off, so a word's senses, search hits and stored uses are of that word ("interest", not also "interesting").
INFLECT = False
_SENTENCE_END = regex.compile(r"(?<=[.!?…][\"')\]]*)\s+")


@dataclass
class Occurrences:
    """N occurrences (rows) of the target words, in corpus order."""

    target: list[str]  # the query word each row matched (folded: text.fold_word)
    form: list[str]  # the surface form in the text (e.g. "banks")
    text_index: npt.NDArray[np.int64]  # (N,) position of the text in the corpus stream
    start: npt.NDArray[np.int64]  # (N,) char offsets of the word in its text
    end: npt.NDArray[np.int64]
    sentence: list[str]  # the sentence around the occurrence (for display)
    texts: dict[int, str]  # the texts that had a match, by text_index
    vectors: F32  # (N, D')
    model_id: str
    layers: str
    labels: list[str] | None = field(default=None)  # gold labels, when the corpus came with them

    def __len__(self) -> int:
        return len(self.target)

    def of(self, word: str) -> npt.NDArray[np.int64]:
        """Row indices of one target word."""
        w = fold_word(word.strip())
        return np.asarray([i for i, t in enumerate(self.target) if t == w], dtype=np.int64)

    def span_in_sentence(self, i: int) -> tuple[int, int]:
        """Row i's word as (start, end) offsets inside `sentence[i]` ((0, 0) if the sentence is not in its text)."""
        text, sentence = self.texts[int(self.text_index[i])], self.sentence[i]
        s, e = int(self.start[i]), int(self.end[i])
        left = text.find(sentence, max(0, e - len(sentence)))
        if left < 0 or left > s:
            left = text.rfind(sentence, 0, s + 1)
        return (s - left, e - left) if left >= 0 else (0, 0)

    def window(self, i: int, width: int = 80) -> tuple[str, str, str]:
        """Row i's sentence cut to about `width` characters around its word: (left context, word, right context),
        with "…" where the sentence goes on."""
        sentence = self.sentence[i]
        s, e = self.span_in_sentence(i)
        if (s, e) == (0, 0):
            s, e = int(self.start[i]), int(self.end[i])
            sentence = self.texts[int(self.text_index[i])]
        side = max(0, width - (e - s)) // 2
        lo, hi = max(0, s - side), min(len(sentence), e + side)
        lo, hi = max(0, min(lo, hi - width)), min(len(sentence), max(hi, lo + width))  # use the room one side leaves
        if lo > 0 and " " in sentence[lo:s]:
            lo = sentence.index(" ", lo, s) + 1  # do not start or end inside a word
        if hi < len(sentence) and " " in sentence[e:hi]:
            hi = sentence.rindex(" ", e, hi)
        left = ("…" if lo > 0 else "") + sentence[lo:s]
        right = sentence[e:hi] + ("…" if hi < len(sentence) else "")
        return left, sentence[s:e], right

    def select(self, rows: npt.NDArray[np.int64]) -> Occurrences:
        rows_list = rows.tolist()
        return Occurrences(
            target=[self.target[i] for i in rows_list],
            form=[self.form[i] for i in rows_list],
            text_index=self.text_index[rows],
            start=self.start[rows],
            end=self.end[rows],
            sentence=[self.sentence[i] for i in rows_list],
            texts={int(t): self.texts[int(t)] for t in self.text_index[rows].tolist()},
            vectors=self.vectors[rows],
            model_id=self.model_id,
            layers=self.layers,
            labels=None if self.labels is None else [self.labels[i] for i in rows_list],
        )


def surface_forms(words: Sequence[str], inflect: bool) -> dict[str, str]:
    """Folded surface form (text.fold_word) -> the folded target word it stands for (with -s/-ed/-ing/... forms
    when `inflect`)."""
    forms: dict[str, str] = {}
    for word in words:
        w = fold_word(word.strip())
        if len(split_words(w)) != 1:
            raise InvalidInputError(f"target word {word!r} must be one word (letters/digits), e.g. 'bank'.")
        found = {fold_word(f) for f in inflections(w, "n") | inflections(w, "v")} if inflect else {w}
        for f in found:
            forms.setdefault(f, w)
        forms[w] = w
    return forms


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of `text` that contains [start, end) (split after . ! ? and closing quotes)."""
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    m = _SENTENCE_END.search(text, end)
    return text[left : m.start() if m else len(text)].strip()


def find_occurrences(
    texts: Iterable[str], words: Sequence[str], *, inflect: bool = INFLECT, max_per_word: int | None = None
) -> Iterable[tuple[int, str, int, int, str]]:
    """(text index, text, start, end, target) of each whole-word, case-insensitive match, in corpus order."""
    forms = surface_forms(words, inflect)
    seen = dict.fromkeys(forms.values(), 0)
    for t, text in enumerate(texts):
        for s, e in split_words(text).tolist():
            target = forms.get(fold_word(text[s:e]))
            if target is None or (max_per_word is not None and seen[target] >= max_per_word):
                continue
            seen[target] += 1
            yield t, text, s, e, target
        if max_per_word is not None and all(n >= max_per_word for n in seen.values()):
            return


def collect_occurrences(
    embedder: EmbedderProtocol,
    texts: Iterable[str],
    words: Sequence[str],
    *,
    inflect: bool = INFLECT,
    layers: LayersArg | None = None,
    layer_pooling: LayerPoolingArg = "mean",
    subword_pooling: SubwordPooling = "mean",
    max_per_word: int | None = None,
    chunk: int = 512,
    labels: Sequence[str] | None = None,
) -> Occurrences:
    """Find and embed every occurrence of `words` in `texts` (the first `max_per_word` of each, if set).

    `labels`, if given, is one gold label per text (e.g. a WordNet sense), carried to each occurrence.
    """
    if isinstance(words, str):
        words = [words]
    if not words:
        raise InvalidInputError("give at least one target word.")
    hits = find_occurrences(texts, words, inflect=inflect, max_per_word=max_per_word)
    rows: list[tuple[int, str, int, int, str]] = []
    vectors: list[F32] = []
    described = ""
    while batch := list(itertools.islice(hits, chunk)):
        res = embedder.embed_spans(
            [(text, s, e) for _, text, s, e, _ in batch],
            layers=layers,
            layer_pooling=layer_pooling,
            subword_pooling=subword_pooling,
        )
        vectors.append(res.vectors)
        described = res.layers
        rows.extend(batch)
    if not rows:
        raise InvalidInputError(f"none of {list(words)!r} occurs in the corpus as a whole word.")
    return Occurrences(
        target=[r[4] for r in rows],
        form=[r[1][r[2] : r[3]] for r in rows],
        text_index=np.asarray([r[0] for r in rows], dtype=np.int64),
        start=np.asarray([r[2] for r in rows], dtype=np.int64),
        end=np.asarray([r[3] for r in rows], dtype=np.int64),
        sentence=[sentence_around(r[1], r[2], r[3]) for r in rows],
        texts={r[0]: r[1] for r in rows},
        vectors=np.concatenate(vectors).astype(np.float32),
        model_id=embedder.model_id,
        layers=described,
        labels=None if labels is None else [labels[r[0]] for r in rows],
    )
