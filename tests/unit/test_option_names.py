"""One name per option: the table in docs/cli.md is generated from contextvec.cli.option_names, and every name in
it exists where it says (Python signatures, CLI commands, serve settings, request schemas); deprecated spellings
still work and warn."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from contextvec.cli.main import app
from contextvec.cli.option_names import OPTION_NAMES, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
START, END = "<!-- options-table:start -->", "<!-- options-table:end -->"


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(dotted)


def _command(path: str) -> Any:
    """'index build' -> the click command of `contextvec index build`."""
    node: Any = typer.main.get_command(app)
    for name in path.split():
        node = node.commands[name]
    return node


def _flags(path: str) -> dict[str, Any]:
    return {opt: p for p in _command(path).params for opt in getattr(p, "opts", [])}


def _places(kind: str) -> list[str]:
    return sorted({p for o in OPTION_NAMES for p in getattr(o, kind)})


def test_docs_table_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text, "docs/cli.md lost its options-table markers"
    between = text.split(START, 1)[1].split(END, 1)[0]
    assert between.strip() == markdown_table().strip(), "regenerate: python -c 'from contextvec.cli.option_names ...'"


@pytest.mark.parametrize("place", _places("python"))
def test_python_names_exist(place: str) -> None:
    target, name = place.split(":")
    obj = _resolve(target)
    fields = getattr(obj, "model_fields", None)
    assert name in (fields if fields is not None else inspect.signature(obj).parameters), place


@pytest.mark.parametrize("place", _places("cli"))
def test_cli_flags_exist_and_are_shown(place: str) -> None:
    command, flag = place.rsplit(" ", 1)
    flags = _flags(command)
    assert flag in flags and not flags[flag].hidden, place


@pytest.mark.parametrize("place", _places("json"))
def test_json_fields_exist(place: str) -> None:
    target, name = place.split(":")
    assert name in _resolve(target).model_fields, place


def test_env_vars_are_serve_settings() -> None:
    from contextvec.serve.settings import ServerSettings

    for o in OPTION_NAMES:
        if o.env:
            assert o.env.removeprefix("CONTEXTVEC_").lower() in ServerSettings.model_fields, o.env


@pytest.mark.parametrize("place", sorted({d for o in OPTION_NAMES for d in o.deprecated if ":" not in d}))
def test_deprecated_flags_still_parse_but_are_hidden(place: str) -> None:
    command, flag = place.rsplit(" ", 1)
    flags = _flags(command)
    assert flag in flags and flags[flag].hidden, place


def test_deprecated_cli_spellings_work_and_warn(tmp_path: Path, model_dir: str) -> None:
    import pyarrow.parquet as pq

    src = tmp_path / "in.txt"
    src.write_text("the river bank\n", encoding="utf-8")
    old = CliRunner().invoke(
        app, ["embed", str(src), "--out", str(tmp_path / "a.parquet"), "-m", model_dir, "--dtype", "float16"]
    )
    assert old.exit_code == 0, old.output
    assert "--dtype" in old.output and "renamed --vector-dtype" in old.output
    new = CliRunner().invoke(
        app, ["embed", str(src), "--out", str(tmp_path / "b.parquet"), "-m", model_dir, "--vector-dtype", "float16"]
    )
    assert new.exit_code == 0 and "renamed" not in new.output
    for name in ("a", "b"):  # both wrote float16 vectors: the old spelling kept its meaning
        vector_type = pq.read_table(tmp_path / f"{name}.parquet").schema.field("vector").type
        assert "halffloat" in str(vector_type), vector_type


def test_deprecated_python_spellings_work_and_warn(tmp_path: Path, bert_embedder: Any) -> None:
    import pyarrow.parquet as pq

    from contextvec.pipeline.embed_file import embed_file

    src = tmp_path / "in.txt"
    src.write_text("the river bank\n", encoding="utf-8")
    with pytest.warns(DeprecationWarning, match=re.escape("embed_file(vector_dtype=...)")):
        embed_file(bert_embedder, src, tmp_path / "a.parquet", dtype="float16")
    assert "halffloat" in str(pq.read_table(tmp_path / "a.parquet").schema.field("vector").type)
