"""Training files for the three task shapes, read into examples that remember their file and line.

classify : CSV with a header holding `text` and `label` columns, or JSON Lines {"text": ..., "label": ...}
tag      : CoNLL-style lines `word tag` (whitespace-separated, the tag last; a blank line ends a sentence),
           or JSON Lines {"words": [...], "tags": [...]}
wic      : the word-in-context JSON Lines `contextvec eval wic` reads (contextvec.eval.wic.read_pairs); when
           rows carry a "split" field, training uses the "train" rows (predict reads every row)

Labels may be missing only where `labelled=False` (files given to `contextvec predict`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contextvec.errors import InputFileError
from contextvec.eval.wic import WicPair, read_pairs
from contextvec.io.readers import read_json_objects

Task = Literal["classify", "tag", "wic"]
TASKS: tuple[str, ...] = ("classify", "tag", "wic")


@dataclass(frozen=True)
class TextExample:
    text: str
    label: str | None
    where: str  # "file:line", for error messages


@dataclass(frozen=True)
class TagExample:
    words: list[str]
    tags: list[str] | None
    where: str


@dataclass(frozen=True)
class PairExample:
    pair: WicPair
    where: str

    @property
    def label(self) -> str:
        return "True" if self.pair.label else "False"


Example = TextExample | TagExample | PairExample


def read_examples(task: Task, path: str | Path, *, labelled: bool = True) -> list[Example]:
    """Every example of `path` for `task`; a malformed line raises InputFileError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"data file {str(path)!r} does not exist.")
    examples: list[Example]
    if task == "wic":
        pairs = read_pairs(path)
        train_only = labelled and any(p.split for p in pairs)  # training reads the "split": "train" rows
        examples = [
            PairExample(p, f"{path}:pair {i + 1}") for i, p in enumerate(pairs) if not train_only or p.split == "train"
        ]
    elif task == "classify":
        examples = list(_read_texts(path, labelled))
    else:
        examples = list(_read_tags_jsonl(path, labelled) if _is_jsonl(path) else _read_conll(path, labelled))
    if not examples:
        raise InputFileError(f"{path} is empty: it holds no {task} examples. See docs/finetune.md for the format.")
    return examples


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".json", ".ndjson")


def _label(value: object, where: str, labelled: bool, field: str = "label") -> str | None:
    if value is None:
        if labelled:
            raise InputFileError(f"{where}: missing {field!r}; every training example needs one.")
        return None
    if isinstance(value, bool | dict | list) or not str(value).strip():
        raise InputFileError(f"{where}: {field} {value!r} is not a label; use a non-empty string or number.")
    return str(value).strip()


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputFileError(f"{where}: 'text' is missing or empty; give the sentence to classify.")
    return value


def _read_texts(path: Path, labelled: bool) -> list[TextExample]:
    if _is_jsonl(path):
        return [
            TextExample(
                _text(r.get("text"), f"{path}:{n}"), _label(r.get("label"), f"{path}:{n}", labelled), f"{path}:{n}"
            )
            for n, r in read_json_objects(path)
        ]
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        fields = reader.fieldnames or []
        if "text" not in fields or (labelled and "label" not in fields):
            need = "text,label" if labelled else "text (and optionally label)"
            raise InputFileError(f"{path}:1: the header is {','.join(fields) or 'empty'}; it must name columns {need}.")
        out = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            out.append(TextExample(_text(row.get("text"), where), _label(row.get("label"), where, labelled), where))
        return out


def _read_tags_jsonl(path: Path, labelled: bool) -> list[TagExample]:
    out = []
    for n, r in read_json_objects(path):
        where = f"{path}:{n}"
        words, tags = r.get("words"), r.get("tags")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise InputFileError(f"{where}: 'words' must be a non-empty list of non-empty strings.")
        if tags is None and not labelled:
            out.append(TagExample(words, None, where))
            continue
        if not isinstance(tags, list):
            raise InputFileError(f"{where}: 'tags' is missing or not a list; give one tag per word.")
        if len(tags) != len(words):
            raise InputFileError(f"{where}: {len(words)} words but {len(tags)} tags; give exactly one tag per word.")
        out.append(TagExample(words, [str(_label(t, where, True, "tag")) for t in tags], where))
    return out


def _read_conll(path: Path, labelled: bool) -> list[TagExample]:
    out: list[TagExample] = []
    words: list[str] = []
    tags: list[str] = []
    start = 1
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate([*fh, ""], start=1):
            parts = line.split()
            if parts and not parts[0].startswith("-DOCSTART-"):
                if not words:
                    start = n
                if labelled and len(parts) < 2:
                    raise InputFileError(f"{path}:{n}: {line.strip()!r} has a word but no tag; write `word tag`.")
                words.append(parts[0])
                if len(parts) >= 2:
                    tags.append(parts[-1])
                continue
            if words:
                if tags and len(tags) != len(words):
                    raise InputFileError(
                        f"{path}:{start}: the sentence from line {start} has {len(words)} words but {len(tags)} tags; "
                        "tag every word or none."
                    )
                out.append(TagExample(words, tags or None, f"{path}:{start}"))
                words, tags = [], []
    return out
