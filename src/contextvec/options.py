"""Option types and their validation: which layers, and how to pool layers, subwords and sentences."""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, ParamSpec, TypeAlias, TypeVar, get_args

from contextvec.errors import LayerError, OptionError

REMOVED_IN = "0.4"  # deprecated spellings of renamed options work until this version (docs/cli.md's table)


def renamed(old: str, new: str) -> None:
    """Warn that a Python keyword was renamed (the old spelling still works until REMOVED_IN)."""
    warnings.warn(
        f"{old} is renamed {new}; {old} works until contextvec {REMOVED_IN} (docs/cli.md, 'One name per option')",
        DeprecationWarning,
        stacklevel=3,
    )


LayerPoolingMode: TypeAlias = Literal["mean", "sum", "concat"]
SubwordPooling: TypeAlias = Literal["first", "last", "first_last", "mean", "max"]
SentencePooling: TypeAlias = Literal["cls", "mean", "mean_all", "max", "last"]
# None = the model's own sentence recipe (sentence-transformers' modules.json when the folder has one), else "mean".
SentencePoolingArg: TypeAlias = SentencePooling | None
Level: TypeAlias = Literal["token", "word", "span", "sentence"]
OutputDType: TypeAlias = Literal["float32", "float16"]

# What a user may pass as `layers=`: "-1", "-4:", "0,6,12", "all", an int, or a sequence of ints.
LayersArg: TypeAlias = str | int | Sequence[int]
# What a user may pass as `layer_pooling=`: a mode name or one scalar weight per selected layer.
LayerPoolingArg: TypeAlias = LayerPoolingMode | Sequence[float]


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return `value` if it is one of `allowed`, else raise an OptionError naming the valid choices."""
    if not isinstance(value, str) or value not in allowed:
        raise OptionError(f"{name}={value!r} is not valid; choose one of: {', '.join(allowed)}.")
    return value


SUBWORD_POOLINGS: tuple[str, ...] = get_args(SubwordPooling)
SENTENCE_POOLINGS: tuple[str, ...] = get_args(SentencePooling)
LAYER_POOLINGS: tuple[str, ...] = get_args(LayerPoolingMode)
LEVELS: tuple[str, ...] = get_args(Level)
OUTPUT_DTYPES: tuple[str, ...] = get_args(OutputDType)


@dataclass(frozen=True)
class LayerSelection:
    """Resolved layers (indices into the model's L+1 hidden states, 0 = embedding output) and how to pool them."""

    indices: tuple[int, ...]
    mode: LayerPoolingMode | Literal["weights"]
    weights: tuple[float, ...] | None = None
    spec: str = ""  # the user's spec as given, kept for provenance

    @property
    def out_factor(self) -> int:
        """How many times the model's hidden size the pooled vector is (concat multiplies it)."""
        return len(self.indices) if self.mode == "concat" else 1

    def describe(self) -> str:
        """A short, stable text for provenance, e.g. 'layers=3,4,5,6 pooling=mean'."""
        pooled = self.mode if self.weights is None else "weights:" + ",".join(f"{w:g}" for w in self.weights)
        return f"layers={','.join(map(str, self.indices))} pooling={pooled}"


def parse_layers(spec: LayersArg, num_layers: int) -> tuple[int, ...]:
    """Resolve a layer spec against a model with `num_layers` blocks (so L+1 hidden states, 0..L).

    Accepted: "all", "-1", "-4:", "2:5", "0,6,12", an int, or a sequence of ints. Negative indices count from the
    last hidden state (-1 = the top layer). Order is kept; duplicates are an error.
    """
    n_states = num_layers + 1
    valid = f"valid indices are 0..{num_layers} (0 = embedding output) or -{n_states}..-1"
    if isinstance(spec, bool):
        raise LayerError(f"layers={spec!r} is not a layer spec; use e.g. -1, '-4:', '0,6,12' or 'all'.")
    raw: list[int]
    if isinstance(spec, int):
        raw = [spec]
    elif isinstance(spec, str):
        text = spec.strip().lower()
        if not text:
            raise LayerError("layers='' is empty; use e.g. '-1', '-4:', '0,6,12' or 'all'.")
        if text == "all":
            raw = list(range(n_states))
        elif ":" in text:
            if text.count(":") != 1:
                raise LayerError(f"layers={spec!r}: a range takes one ':' (e.g. '-4:' or '2:5').")
            lo_s, hi_s = (p.strip() for p in text.split(":"))
            try:
                lo = int(lo_s) if lo_s else 0
                hi = int(hi_s) if hi_s else n_states
            except ValueError:
                raise LayerError(f"layers={spec!r}: range bounds must be integers, e.g. '-4:' or '2:5'.") from None
            for bound in (lo, hi):
                if not -n_states <= bound <= n_states:
                    raise LayerError(f"layers={spec!r}: bound {bound} is out of range; {valid}.")
            raw = list(range(n_states))[lo:hi]
            if not raw:
                raise LayerError(f"layers={spec!r} selects no layer; {valid}.")
        else:
            try:
                raw = [int(p) for p in text.split(",")]
            except ValueError:
                raise LayerError(
                    f"layers={spec!r} is not a layer spec; use e.g. '-1', '-4:', '0,6,12' or 'all'."
                ) from None
    else:
        try:
            raw = [int(i) for i in spec]
        except (TypeError, ValueError):
            raise LayerError(f"layers={spec!r} must be integers; use e.g. [0, 6, 12].") from None
        if not raw:
            raise LayerError("layers=[] selects no layer; give at least one index.")
    resolved: list[int] = []
    for i in raw:
        if not -n_states <= i < n_states:
            raise LayerError(f"layer {i} does not exist in a model with {num_layers} layers; {valid}.")
        resolved.append(i % n_states)
    if len(set(resolved)) != len(resolved):
        raise LayerError(f"layers={spec!r} names a layer twice ({resolved}); list each layer once.")
    return tuple(resolved)


def resolve_layer_selection(layers: LayersArg, pooling: LayerPoolingArg, num_layers: int) -> LayerSelection:
    """Combine a layer spec and a layer-pooling choice into a validated LayerSelection."""
    indices = parse_layers(layers, num_layers)
    spec = layers if isinstance(layers, str) else ",".join(map(str, indices))
    if isinstance(pooling, str):
        mode = check_choice("layer_pooling", pooling, LAYER_POOLINGS)
        return LayerSelection(indices=indices, mode=mode, spec=spec)  # type: ignore[arg-type]
    try:
        weights = tuple(float(w) for w in pooling)
    except (TypeError, ValueError):
        raise OptionError(
            f"layer_pooling={pooling!r} must be one of {', '.join(LAYER_POOLINGS)} or a list of numbers."
        ) from None
    if not all(math.isfinite(w) for w in weights):
        raise OptionError(
            f"layer_pooling={list(weights)} holds NaN or infinity; give finite numbers, e.g. [0.25, 0.75]."
        )
    if not any(weights):
        raise OptionError(
            f"layer_pooling={list(weights)} is all zeros, which makes every vector zero; give at least one "
            "non-zero weight, e.g. [0.25, 0.75]."
        )
    if len(weights) != len(indices):
        raise OptionError(
            f"layer_pooling has {len(weights)} weights but layers={layers!r} selects {len(indices)} layers "
            f"{list(indices)}; give one weight per selected layer."
        )
    return LayerSelection(indices=indices, mode="weights", weights=weights, spec=spec)


P = ParamSpec("P")
R = TypeVar("R")


def strict_options(fn: Callable[P, R]) -> Callable[P, R]:
    """Make unknown keyword arguments raise an OptionError that lists the valid ones."""
    valid = [p for p in inspect.signature(fn).parameters if p != "self"]
    name = fn.__qualname__.removesuffix(".__init__") if fn.__name__ == "__init__" else fn.__name__  # Embedder()

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise OptionError(
                f"{name}() got unknown option(s) {', '.join(unknown)}; valid options: {', '.join(valid)}."
            )
        return fn(*args, **kwargs)

    return wrapper
