"""The shape of the house, as tests: layers (import-linter), no import cycles, small files and functions."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "contextvec"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (make test does)")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_import_contracts_hold() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


def test_an_upward_import_from_the_spine_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    embedder = tmp_path / "src" / "contextvec" / "embedder.py"
    embedder.write_text(embedder.read_text() + "\nimport contextvec.analysis.compare  # noqa\n")
    run = _lint_imports(tmp_path)
    assert run.returncode != 0
    assert "The spine imports no tool BROKEN" in run.stdout
    assert "contextvec.embedder -> contextvec.analysis.compare" in run.stdout


def _imports(path: Path, module: str) -> set[str]:
    """contextvec modules imported anywhere in a file (top level, functions, TYPE_CHECKING blocks)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("contextvec") and m != module}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {m: {i for i in _imports(p, m) if i in modules and i != m} for m, p in modules.items()}
    graph = {m: {i for i in deps if not m.startswith(i + ".")} for m, deps in graph.items()}  # a package's own init
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for m in graph:
        if m not in index:
            visit(m)
    assert cycles == []


def test_files_and_functions_are_small() -> None:
    long_files = []
    long_functions = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_FILE_LINES:
            long_files.append(f"{path.relative_to(SRC)}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:  # no exemptions: split it into a function per step
                    long_functions.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}: {length} lines")
    assert long_files == [], f"files over {MAX_FILE_LINES} lines"
    assert long_functions == [], f"functions over {MAX_FUNCTION_LINES} lines"


def test_progress_is_drawn_in_one_module_only() -> None:
    """One progress reporter (contextvec/progress.py): no second Rich bar or tqdm anywhere in the package."""
    drawn = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "progress.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("rich.progress", "Progress(", "tqdm"):
            if needle in text:
                drawn.append(f"{path.relative_to(SRC)}: {needle}")
    assert drawn == [], "report progress through contextvec.progress (a Reporter), do not draw it"
    assert "Progress(" in (SRC / "progress.py").read_text(encoding="utf-8")
