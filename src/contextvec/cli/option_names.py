"""One name per option across Python keywords, CLI flags, environment variables and HTTP fields: the single
source of the table in docs/cli.md (between its `options-table` markers), which tests/unit/test_option_names.py
regenerates and checks against the real signatures, commands, settings and request schemas.

Each place is written as where it lives and the name there:
    python "contextvec.embedder.Embedder:dtype"   a keyword of a callable (a class: its constructor)
    cli    "index build --gpus-per-actor"         a flag of a command
    json   "contextvec.serve.search_route.SearchRequest:doc_ids"   a field of a request body
    env    "CONTEXTVEC_DTYPE"                      a `contextvec serve` setting (ServerSettings)
Deprecated spellings keep working until REMOVED_IN, with a DeprecationWarning (Python) or a warning line (CLI).
"""

from __future__ import annotations

from dataclasses import dataclass

from contextvec.options import REMOVED_IN


@dataclass(frozen=True)
class OptionName:
    meaning: str
    python: tuple[str, ...] = ()
    cli: tuple[str, ...] = ()
    env: str = ""
    json: tuple[str, ...] = ()
    deprecated: tuple[str, ...] = ()  # old spellings, python or cli form as above
    note: str = ""


_SCHEMAS = "contextvec.serve.schemas"
OPTION_NAMES: tuple[OptionName, ...] = (
    OptionName(
        "model (name, folder or file)",
        python=("contextvec.embedder.Embedder:model", "contextvec.index.build.build_index:model"),
        cli=("embed --model", "compare --model", "index build --model", "finetune classify --model", "serve --model"),
        env="CONTEXTVEC_MODELS",
        json=(f"{_SCHEMAS}.WordsRequest:model", f"{_SCHEMAS}.CompareRequest:model"),
    ),
    OptionName(
        "model to fine-tune (a name, a folder or a loaded TorchBackend)",
        python=("contextvec.finetune.run.finetune:model",),
        cli=("finetune classify --model",),
        deprecated=("contextvec.finetune.run.finetune:backend",),
        note="`backend` names a runtime everywhere else",
    ),
    OptionName(
        "runtime: torch | onnx | auto",
        python=("contextvec.embedder.Embedder:backend",),
        cli=("embed --backend", "serve --backend"),
        env="CONTEXTVEC_BACKEND",
    ),
    OptionName(
        "model precision: float32 | bfloat16 | float16 | int8",
        python=("contextvec.embedder.Embedder:dtype",),
        cli=("serve --dtype", "embed --model-dtype"),
        env="CONTEXTVEC_DTYPE",
        note=f"`embed` says `--model-dtype` until {REMOVED_IN}; its old `--dtype` (the vector type) is deprecated",
    ),
    OptionName(
        "vector type written to a file: float32 | float16",
        python=("contextvec.pipeline.embed_file.embed_file:vector_dtype",),
        cli=("embed --vector-dtype",),
        deprecated=("embed --dtype", "contextvec.pipeline.embed_file.embed_file:dtype"),
    ),
    OptionName(
        "layers of token, word and span vectors",
        python=("contextvec.embedder.Embedder.embed_words:layers", "contextvec.index.build.build_index:layers"),
        cli=("embed --layers", "compare --layers", "index build --layers"),
        json=(f"{_SCHEMAS}.WordsRequest:layers", f"{_SCHEMAS}.CompareRequest:layers"),
    ),
    OptionName(
        "GPUs each Ray actor reserves",
        python=("contextvec.index.build.build_index:gpus_per_actor",),
        cli=("index build --gpus-per-actor",),
        deprecated=("index build --gpus-per-worker", "contextvec.index.build.build_index:num_gpus"),
    ),
    OptionName(
        "CPUs each Ray actor reserves (it runs max(1, int(this)) torch threads)",
        python=("contextvec.index.build.build_index:cpus_per_actor",),
        cli=("index build --cpus-per-actor",),
    ),
    OptionName(
        "only these document ids",
        python=(
            "contextvec.index.search.Index.search_like:doc_ids",
            "contextvec.index.search.Index.search_sentences:doc_ids",
        ),
        cli=("search --doc-ids",),
        json=("contextvec.serve.search_route.SearchRequest:doc_ids",),
        deprecated=("search --doc",),
    ),
    OptionName(
        "static model the explorer shows beside the contextual one",
        python=("contextvec.serve.settings.ServerSettings:ui_static_model",),
        cli=("serve --ui-static-model", "explore --ui-static-model"),
        env="CONTEXTVEC_UI_STATIC_MODEL",
        deprecated=("explore --static-model",),
    ),
)


def python_label(place: str) -> str:
    """ "contextvec.index.build.build_index:layers" -> "build_index(layers=)"."""
    target, name = place.split(":")
    return f"{target.rsplit('.', 1)[-1]}({name}=)"


def _label(place: str) -> str:
    return python_label(place) if ":" in place else place


def markdown_table() -> str:
    """The table docs/cli.md shows between its options-table markers."""
    rows = [
        f"| option | Python | CLI flag | env var (`serve`) | JSON field | deprecated, works until {REMOVED_IN} |",
        "|---|---|---|---|---|---|",
    ]
    for o in OPTION_NAMES:
        json_names = sorted({p.split(":")[1] for p in o.json})
        cells = [
            o.meaning + (f" ({o.note})" if o.note else ""),
            ", ".join(f"`{python_label(p)}`" for p in o.python),
            ", ".join(f"`{c}`" for c in o.cli),
            f"`{o.env}`" if o.env else "",
            ", ".join(f"`{j}`" for j in json_names),
            ", ".join(f"`{_label(d)}`" for d in o.deprecated),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
