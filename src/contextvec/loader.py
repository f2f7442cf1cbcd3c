"""The one loader: a model name or path -> an embedder (contextual or static) that satisfies EmbedderProtocol.

The CLI, the evaluation suite, the analysis tools, the index and the server all load models through here.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from contextvec.errors import OptionError
from contextvec.models.registry import DEFAULT_MODEL
from contextvec.protocol import EmbedderProtocol

if TYPE_CHECKING:
    from contextvec.embedder import Embedder
    from contextvec.static.embedder import StaticEmbedder


def load_embedder(model: str = DEFAULT_MODEL, **options: Any) -> EmbedderProtocol:
    """Load `model`: an offline name (minilm, mpnet, smollm2, glove-50d), a local model folder, a .gguf file,
    a static vector file (.txt/.vec/.bin/.npy), or a hub id when a hub is reachable.

    `options` are `Embedder`'s keyword arguments (device, dtype, max_length, stride, correction, ...); they apply
    to contextual models only. A static model refuses an option set to anything but its default rather than
    ignoring it; at its default (e.g. the CLI's `--backend torch`, which every command passes) it changes nothing.
    """
    from contextvec.embedder import Embedder
    from contextvec.static.packaged import is_static

    params = {n: p for n, p in inspect.signature(Embedder.__init__).parameters.items() if n not in ("self", "model")}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise OptionError(f"load_embedder() got unknown option(s) {', '.join(unknown)}; valid: {', '.join(params)}.")
    if is_static(model):
        changed = sorted(k for k, v in options.items() if v != params[k].default)
        if changed:
            given = ", ".join(f"{k}={options[k]!r}" for k in changed)
            raise OptionError(
                f"{model!r} is a static vector model: {given} apply to contextual models only; leave them out."
            )
        from contextvec.static.embedder import StaticEmbedder

        return StaticEmbedder.load(model)
    return Embedder(model, **options)


def load_contextual(model: str = DEFAULT_MODEL, *, purpose: str = "this", **options: Any) -> Embedder:
    """Like `load_embedder`, for tools that need a transformer's layers or attention: static vectors are refused
    with a message that says so (`purpose` names the tool, e.g. "attention")."""
    from contextvec.embedder import Embedder
    from contextvec.static.packaged import is_static

    refusal = OptionError(
        f"{purpose} needs a contextual model (minilm, mpnet, smollm2 or a transformers folder); "
        f"{model!r} is static vectors."
    )
    if is_static(model):  # before the options: the model is the mistake, not the options it was given
        raise refusal
    embedder = load_embedder(model, **options)
    if not isinstance(embedder, Embedder):
        raise refusal
    return embedder


def load_static(model: str, *, purpose: str = "this") -> StaticEmbedder:
    """Like `load_embedder`, for tools that need a static vector space (neighbours, analogies)."""
    from contextvec.static.embedder import StaticEmbedder

    embedder = load_embedder(model)
    if not isinstance(embedder, StaticEmbedder):
        raise OptionError(
            f"{purpose} needs static vectors (glove-50d, a .txt/.vec/.bin word2vec file or a vectors folder); "
            f"{model!r} is a contextual model, whose vector for a word depends on its sentence."
        )
    return embedder
