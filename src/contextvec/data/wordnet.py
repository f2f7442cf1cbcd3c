"""WordNet 3.0 usage examples as sense-labelled sentences, from Debian's `wordnet-base` (the database files).

Each synset's gloss ends with quoted usage examples ("the bank approved the loan"). An example that contains
one of the synset's single-word lemmas (or an inflection of it: WordNet's exception lists plus regular -s, -es,
-ed, -ing, -er, -est rules) is a sentence in which that word has that sense, with the word's exact char span.
Install once: `apt-get install wordnet-base` (or point $CONTEXTVEC_WORDNET at a folder with data.noun etc.).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from contextvec.errors import DatasetNotFoundError
from contextvec.text import split_words

INSTALL = "sudo apt-get install wordnet-base"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_QUOTED = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class SenseExample:
    """One usage example: `lemma` (part of speech `pos`) has sense `synset` at text[start:end]."""

    lemma: str
    pos: str  # n, v, a, r
    synset: str  # e.g. "bank.n.09931165" (lemma, pos, WordNet offset): stable and readable
    gloss: str
    text: str
    start: int
    end: int


def locate() -> Path:
    env = os.environ.get("CONTEXTVEC_WORDNET")
    for c in ([Path(env).expanduser()] if env else []) + [Path("/usr/share/wordnet")]:
        if (c / "data.noun").exists():
            return c
    raise DatasetNotFoundError(
        "WordNet 3.0 is not installed (no data.noun in /usr/share/wordnet or $CONTEXTVEC_WORDNET). Install it with:\n"
        f"  {INSTALL}"
    )


@cache
def _exceptions(folder: Path, pos: str) -> dict[str, set[str]]:
    """Base form -> irregular inflections, from WordNet's <pos>.exc lists (e.g. 'go' -> {'went', 'gone'})."""
    out: dict[str, set[str]] = {}
    path = folder / f"{POS_FILES[pos]}.exc"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            inflected, *bases = line.split()
            for base in bases:
                out.setdefault(base, set()).add(inflected)
    return out


def inflections(lemma: str, pos: str, exceptions: dict[str, set[str]] | None = None) -> set[str]:
    """The lemma and its regular (and listed irregular) inflections, lowercased."""
    w = lemma.lower()
    forms = {w} | (exceptions or {}).get(w, set())
    if pos == "n":
        forms |= {w + "s", w + "es", w[:-1] + "ies" if w.endswith("y") else w + "s"}
    elif pos == "v":
        stem = w[:-1] if w.endswith("e") else w
        forms |= {w + "s", w + "es", stem + "ed", stem + "ing", w + "d"}
        if w.endswith("y"):
            forms |= {w[:-1] + "ies", w[:-1] + "ied"}
        if len(w) >= 3 and w[-1] not in "aeiouwxy" and w[-2] in "aeiou" and w[-3] not in "aeiou":
            forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # stop -> stopped, stopping
    elif pos == "a":
        forms |= {w + "er", w + "est", w + "r", w + "st"}
    return forms


def _parse_line(line: str, pos: str) -> tuple[str, list[str], str, list[str]] | None:
    """(offset, single-word lemmas, definition, examples) of one data.<pos> line."""
    if line.startswith("  ") or "|" not in line:  # licence header
        return None
    head, gloss = line.split("|", 1)
    fields = head.split()
    offset, n_words = fields[0], int(fields[3], 16)
    lemmas = []
    for k in range(n_words):
        word = re.sub(r"\([a-z]+\)$", "", fields[4 + 2 * k])  # adjective markers: "(a)", "(p)", "(ip)"
        if "_" not in word and "-" not in word:
            lemmas.append(word)
    examples = _QUOTED.findall(gloss)
    definition = gloss.split(";")[0].strip()
    return offset, lemmas, definition, examples


def sense_examples(pos: Iterable[str] = ("n", "v", "a", "r"), folder: Path | None = None) -> Iterator[SenseExample]:
    """Every (lemma, synset, example) where the example contains the lemma, in file order."""
    root = folder or locate()
    for p in pos:
        exc = _exceptions(root, p)
        with (root / f"data.{POS_FILES[p]}").open(encoding="utf-8") as fh:
            for line in fh:
                parsed = _parse_line(line, p)
                if parsed is None:
                    continue
                offset, lemmas, definition, examples = parsed
                for example in examples:
                    text = example.strip()
                    words = [(s, e, text[s:e].lower()) for s, e in split_words(text).tolist()]
                    for lemma in lemmas:
                        forms = inflections(lemma, p, exc)
                        hit = next(((s, e) for s, e, w in words if w in forms), None)
                        if hit is not None:
                            yield SenseExample(
                                lemma.lower(), p, f"{lemma.lower()}.{p}.{offset}", definition, text, *hit
                            )


def examples_by_lemma(
    pos: Iterable[str] = ("n", "v", "a", "r"), folder: Path | None = None
) -> dict[tuple[str, str], list[SenseExample]]:
    """(lemma, pos) -> its examples, for lemmas with examples under at least two synsets."""
    grouped: dict[tuple[str, str], list[SenseExample]] = {}
    for ex in sense_examples(pos, folder):
        grouped.setdefault((ex.lemma, ex.pos), []).append(ex)
    return {k: v for k, v in grouped.items() if len({e.synset for e in v}) >= 2}
