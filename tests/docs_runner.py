"""Run the code blocks of one Markdown page, in order, in one process: `python tests/docs_runner.py PAGE.md`.

The convention (docs/reliability.md, "Docs that run"):
- A ```bash / ```sh / ```python block runs. Shell lines that start with `contextvec` run in this process (the CLI
  app, as typed); `pip install` lines are checked by tests/unit/test_docs.py for one spelling instead; any
  other shell command needs a skip marker.
- Python blocks of a page share one namespace, as a reader's session would.
- An HTML comment on the line before the fence changes that:
    <!-- doc-test: skip: REASON -->    not run (needs a server, a GPU, real weights, minutes); REASON is required
    <!-- doc-test: output -->          a block of `$ command` lines, each followed by what it prints: the command
                                       runs and its table's header and row count must match what the page shows
    <!-- doc-test: output: header -->  the same, the header alone (the row count depends on the model)
- Blocks without a language (diagrams, file trees, output) and ```text blocks are prose unless marked `output`.
- Every block runs on the tiny models of tests/tiny_models.py: the offline names minilm / mpnet / smollm2 load
  a tiny random BERT (or LLaMA for smollm2) saved to a folder, and the corpus "brown" is a few dozen sentences.
  So numbers differ from the page's; what is checked is that every command and call works as written.
The working directory is a fresh folder holding the small input files the pages name (corpus.txt, input.txt ...).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = re.compile(r"<!--\s*doc-test:\s*(?P<kind>skip|output)\s*(?::\s*(?P<reason>.*?))?\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
RUN_LANGS = {"bash", "sh", "shell", "python"}


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None  # "skip" | "output" | None
    reason: str

    @property
    def runs(self) -> bool:
        if self.marker == "skip":
            return False
        return self.marker == "output" or self.lang in RUN_LANGS

    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a page with the marker comment right above each (blank lines between allowed)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mk = MARKER.search(lines[k]) if k >= 0 else None
        out.append(
            Block(
                path.name,
                i + 1,
                m["lang"],
                "\n".join(lines[i + 1 : j]),
                mk["kind"] if mk else None,
                (mk["reason"] or "") if mk else "",
            )
        )
        i = j + 1
    return out


def commands(code: str) -> list[str]:
    """Logical shell lines (backslash continuations joined), without blank and comment-only lines."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]


# --- the tiny stand-ins ---------------------------------------------------------------------------------------

TINY_TEXTS = [
    "The bank approved my loan after a long review of the account.",
    "We sat on the bank of the river and watched the water run by.",
    "The interest on the loan was paid to the bank every month.",
    "She showed great interest in the history of the river.",
    "Interest rates rose, and the bank raised the interest it paid.",
    "His interest in music began when he was a child.",
    "The chicken didn't cross the road because it was too tired.",
    "Contextual embeddings give each use of a word its own vector.",
]


def install_tiny_models(folder: Path) -> None:
    """Offline model names -> tiny random models saved under `folder`; 'brown' -> TINY_TEXTS repeated."""
    sys.path.insert(0, str(HERE))
    import torch
    from tiny_models import _byte_level_bpe, _wordpiece
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaModel

    import contextvec.data.brown as brown
    from contextvec.models import registry

    # As many layers and heads as the real models (their recipes name layers 2:6, 2:8, 13), 4 dims per head.
    shapes = {"minilm": (6, 12), "mpnet": (12, 12), "smollm2": (30, 3)}
    folders = {name: folder / f"tiny-{name}" for name in shapes}
    if not all(f.exists() for f in folders.values()):
        torch.manual_seed(0)
        for name, (layers, heads) in shapes.items():
            if name == "smollm2":
                tok = _byte_level_bpe()
                model: object = LlamaModel(
                    LlamaConfig(
                        vocab_size=len(tok),
                        hidden_size=4 * heads,
                        num_hidden_layers=layers,
                        num_attention_heads=heads,
                        num_key_value_heads=heads,
                        intermediate_size=24,
                        max_position_embeddings=512,
                        pad_token_id=tok.pad_token_id,
                    )
                )
            else:
                tok = _wordpiece()
                model = BertModel(
                    BertConfig(
                        vocab_size=len(tok),
                        hidden_size=4 * heads,
                        num_hidden_layers=layers,
                        num_attention_heads=heads,
                        intermediate_size=96,
                        max_position_embeddings=512,
                        pad_token_id=tok.pad_token_id,
                    ),
                    add_pooling_layer=False,
                )
            tok.model_max_length = 512
            model.save_pretrained(folders[name])  # type: ignore[attr-defined]
            tok.save_pretrained(folders[name])
    registry._LOCATORS.update({name: (lambda f=f: f) for name, f in folders.items()})
    brown.sentences = lambda source=None: iter(TINY_TEXTS * 8)  # type: ignore[assignment]


def seed_inputs(cwd: Path) -> None:
    for name in ("corpus.txt", "input.txt", "texts.txt", "my_corpus.txt", "my-corpus.txt"):
        (cwd / name).write_text("\n".join(TINY_TEXTS * 3) + "\n", encoding="utf-8")


# --- running -----------------------------------------------------------------------------------------------------


def run_cli(line: str) -> str:
    from typer.testing import CliRunner

    from contextvec.cli.main import app

    argv = shlex.split(line, comments=True)
    res = CliRunner().invoke(app, argv[1:], catch_exceptions=True)
    if res.exit_code != 0:
        detail = "".join(traceback.format_exception(res.exception)) if res.exception else ""
        raise AssertionError(f"`{line}` exited {res.exit_code}:\n{res.output}{detail}")
    return res.output


def run_shell(block: Block) -> None:
    for line in commands(block.code):
        if line.startswith("pip install"):
            continue  # install lines: one spelling across pages (tests/unit/test_docs.py)
        if not line.startswith("contextvec "):
            raise AssertionError(
                f"{block.where()}: cannot run `{line}` here; mark the block <!-- doc-test: skip: why -->"
            )
        run_cli(line)


def table_shape(output: str) -> tuple[list[str], int]:
    """A Rich table's header cells and its number of body rows (numbers and cell text differ on tiny models)."""
    header = next((ln for ln in output.splitlines() if "┃" in ln), "")
    cells = [c.strip() for c in header.strip("┃ ").split("┃")]
    rows = sum(1 for ln in output.splitlines() if ln.startswith("│") and re.match(r"│\s*[-\d.]+\s*│", ln))
    return cells, rows


def run_output(block: Block) -> None:
    """`$ command` then what it prints: the command's table must have the page's header and row count."""
    parts = re.split(r"^\$ ", block.code, flags=re.M)[1:]
    for part in parts:
        line, _, shown = part.partition("\n")
        got = run_cli(line)
        want_shape, got_shape = table_shape(shown), table_shape(got)
        if block.reason == "header":
            want_shape, got_shape = (want_shape[0], 0), (got_shape[0], 0)
        if want_shape != got_shape:
            raise AssertionError(f"{block.where()}: `{line}` printed a table {got_shape}, the page shows {want_shape}")


def run_page(path: Path, cwd: Path, models: Path) -> list[str]:
    """Run every runnable block of the page in order; return one line per block run."""
    install_tiny_models(models)
    seed_inputs(cwd)
    namespace: dict[str, object] = {"__name__": "__doc__"}
    done = []
    for block in blocks(path):
        if not block.runs:
            continue
        if block.marker == "output":
            run_output(block)
        elif block.lang == "python":
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(compile(block.code, block.where(), "exec"), namespace)
                except Exception as exc:
                    raise AssertionError(f"{block.where()}: {type(exc).__name__}: {exc}") from exc
        else:
            run_shell(block)
        done.append(f"ran {block.where()} ({block.lang or 'output'})")
    return done


if __name__ == "__main__":
    import os

    page, cwd, models = (Path(a).resolve() for a in sys.argv[1:4])
    os.chdir(cwd)
    try:
        print("\n".join(run_page(page, cwd, models)))
    except AssertionError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
