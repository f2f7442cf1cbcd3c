"""The task-trained embedding layer recovers the structure planted in its demo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contextvec.errors import InputFileError
from contextvec.static.task import CUISINES, DEMO_FILE, demo_baskets, read_baskets, train_task_embeddings
from contextvec.static.vectors import StaticVectors

CUISINE_OF = {dish: c for c, dishes in CUISINES.items() for dish in dishes}


def same_role_neighbours(v: StaticVectors) -> float:
    """Share of items whose nearest neighbour comes from the same cuisine (chance: 7/63)."""
    return float(np.mean([CUISINE_OF[v.most_similar(w, 1)[0][0]] == CUISINE_OF[w] for w in v.words]))


def test_items_sharing_a_role_end_up_near_each_other() -> None:
    trained = train_task_embeddings(demo_baskets(2000), dim=16, epochs=30)
    assert same_role_neighbours(trained) >= 0.9
    rng = np.random.default_rng(0)
    untrained = StaticVectors(trained.words, rng.normal(size=trained.matrix.shape).astype(np.float32), name="r")
    assert same_role_neighbours(untrained) < 0.4  # the measure does fail on random vectors


def test_shipped_demo_file_is_the_documented_generator_output() -> None:
    assert read_baskets(DEMO_FILE) == demo_baskets()


def test_bad_baskets_files(tmp_path: Path) -> None:
    p = tmp_path / "b.txt"
    p.write_text("pizza, sushi\nramen\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="b.txt:2: a basket needs 2\\+ items"):
        read_baskets(p)
    with pytest.raises(InputFileError, match="does not exist"):
        read_baskets(tmp_path / "missing.txt")


def test_cli_trains_the_demo(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app
    from contextvec.static.embedder import StaticEmbedder

    out = tmp_path / "food"
    result = CliRunner().invoke(
        app, ["static", "train", "task", "demo", "--out", str(out), "--dim", "16", "--epochs", "20"]
    )
    assert result.exit_code == 0, result.output
    food = StaticEmbedder.load(str(out))
    assert CUISINE_OF[food.most_similar("sushi", 1)[0][0]] == "japanese"
