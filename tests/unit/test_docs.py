"""Docs that cannot drift: every command and Python block of README.md and docs/*.md runs (tests/docs_runner.py
explains the convention), one subprocess per page, on the tiny models; output blocks are compared."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_runner import blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if ".template." not in p.name)]
# Lines that quote a wheel install on purpose: an error message's text, and what every node of a cluster runs
WHEEL_INSTALL_LINES = ("error naming", "Every node needs", "--no-deps   # (the model")
INSTALL = re.compile(r"pip install (?:-e )?[\"']?(?:contextvec|\.)\[[\w,]+\][\"']?")
ONE_SPELLING = re.compile(r'pip install -e "\.\[[\w,]+\]"')  # from the clone, with .venv active


def runnable(page: Path) -> bool:
    return any(b.runs for b in blocks(page))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("doc-models")


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: p.name)
def test_the_pages_blocks_run_as_written(page: Path, tiny_models: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env["COLUMNS"] = "120"  # Rich tables as wide as the pages show them
    runner = Path(__file__).resolve().parents[1] / "docs_runner.py"
    res = subprocess.run(
        [sys.executable, str(runner), str(page), str(tmp_path), str(tiny_models)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,  # a page of many blocks on a loaded 2-core machine
    )
    assert res.returncode == 0, f"{page.name}:\n{res.stderr[-4000:]}"
    assert res.stdout.count("ran ") == sum(b.runs for b in blocks(page))


def test_every_skipped_block_says_why() -> None:
    for page in PAGES:
        for b in blocks(page):
            if b.marker == "skip":
                assert len(b.reason) >= 10, f"{b.where()}: a skip marker needs a reason"


def test_extras_are_installed_one_way_on_every_page() -> None:
    """Issue 26: the extras' install lines differed from page to page."""
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if any(w in line for w in WHEEL_INSTALL_LINES):
                continue
            for hit in INSTALL.finditer(line):
                assert ONE_SPELLING.fullmatch(hit.group()), f"{page.name}:{n}: {hit.group()!r}"


def test_the_readme_says_to_activate_the_venv() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text
