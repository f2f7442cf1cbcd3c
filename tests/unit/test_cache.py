"""A damaged model cache entry is detected on load and rebuilt (issue 14, defect 7), on a tiny model built in code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_bert
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.errors import ModelLoadError
from contextvec.models.cache import build_once
from contextvec.models.manifest import MANIFEST, entry_problem, safetensors_problem


def _is_model(p: Path) -> bool:
    return (p / "config.json").is_file() and (p / "model.safetensors").is_file()


@dataclass
class Entry:
    """A cache entry holding the tiny BERT; `builds` counts how often it was built."""

    tokenizer: PreTrainedTokenizerFast
    final: Path
    builds: int = 0

    def build(self, tmp: Path) -> None:
        self.builds += 1
        tiny_bert(self.tokenizer).save_pretrained(tmp)
        self.tokenizer.save_pretrained(tmp)

    def load(self) -> Path:
        return build_once(self.final, self.build, _is_model)


@pytest.fixture
def entry(tmp_path: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> Entry:
    e = Entry(wordpiece_tokenizer, tmp_path / "models" / "tiny-1")
    e.load()
    return e


def _truncate(f: Path) -> None:
    os.truncate(f, f.stat().st_size // 2)


def _scramble(f: Path) -> None:
    """Random bytes over all tensor data, same size, header intact (what `cosine = nan` came from)."""
    size = f.stat().st_size
    with f.open("r+b") as fh:
        n = int.from_bytes(fh.read(8), "little")
        fh.seek(8 + n)
        fh.write(np.random.default_rng(0).integers(0, 256, size - 8 - n, dtype=np.uint8).tobytes())


def test_a_built_entry_carries_a_manifest_and_is_not_rebuilt(entry: Entry) -> None:
    final = entry.final
    assert (final / MANIFEST).is_file() and entry_problem(final, full=True) is None
    entry.load()
    assert entry.builds == 1


@pytest.mark.parametrize("damage", [_truncate, _scramble], ids=["truncated", "overwritten"])
def test_a_damaged_entry_is_detected_and_rebuilt_so_vectors_are_finite(entry: Entry, damage: object) -> None:
    final = entry.final
    damage(final / "model.safetensors")  # type: ignore[operator]
    assert entry_problem(final) is not None
    assert entry.load() == final
    assert entry.builds == 2 and entry_problem(final, full=True) is None
    assert [p.name for p in final.parent.iterdir()] == [final.name]  # no temp or old folder left
    vectors = Embedder(str(final), device="cpu").embed_words(["We sat on the bank."]).vectors
    assert np.isfinite(vectors).all()


def test_an_entry_without_manifest_is_rebuilt_once(entry: Entry) -> None:
    final = entry.final
    (final / MANIFEST).unlink()
    entry.load()
    entry.load()
    assert entry.builds == 2 and (final / MANIFEST).is_file()


def test_safetensors_structure_is_checked(entry: Entry) -> None:
    final = entry.final
    f = final / "model.safetensors"
    assert safetensors_problem(f) is None
    _truncate(f)
    assert "header describes" in (safetensors_problem(f) or "")


def test_a_truncated_weight_file_in_a_users_folder_is_a_model_load_error(model_dir: str, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "mine"
    shutil.copytree(model_dir, folder)
    _truncate(folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match="damaged.*save or download the weights again"):
        Embedder(str(folder), device="cpu")


def _edit_manifest(final: Path, change: object) -> None:
    import json

    new = change(json.loads((final / MANIFEST).read_text()))  # type: ignore[operator]
    (final / MANIFEST).write_text(new if isinstance(new, str) else json.dumps(new))  # a str: raw text


MALFORMED_MANIFESTS = {
    "not json": lambda doc: "{not json",
    "a list": lambda doc: [doc],
    "files is a list": lambda doc: {**doc, "files": list(doc["files"])},
    "an entry is a number": lambda doc: {**doc, "files": dict.fromkeys(doc["files"], 5)},
    "an entry lacks its size": lambda doc: {**doc, "files": {k: {"sampled": "x"} for k in doc["files"]}},
    "a size is text": lambda doc: {**doc, "files": {k: {**v, "size": "12"} for k, v in doc["files"].items()}},
    "a hash is missing": lambda doc: {**doc, "files": {k: {"size": v["size"]} for k, v in doc["files"].items()}},
    "a path leaves the entry": lambda doc: {**doc, "files": {"../outside.bin": {"size": 1, "sampled": "x"}}},
    "an unknown version": lambda doc: {**doc, "version": 99},
}


@pytest.mark.parametrize("change", MALFORMED_MANIFESTS.values(), ids=MALFORMED_MANIFESTS.keys())
def test_a_malformed_manifest_is_a_damaged_entry_and_rebuilt(entry: Entry, change: object) -> None:
    """The cache's promise: a damaged entry is rebuilt. A manifest that is not the one contextvec writes is damage
    (named in the problem), not a KeyError or TypeError out of the loader."""
    final = entry.final
    _edit_manifest(final, change)
    problem = entry_problem(final)
    assert problem is not None and MANIFEST in problem
    assert entry.load() == final
    assert entry.builds == 2 and entry_problem(final, full=True) is None
    assert [p.name for p in final.parent.iterdir()] == [final.name]
