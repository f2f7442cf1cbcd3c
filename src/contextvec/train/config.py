"""What a training run is: the kind of model, the network's size and the loop's settings, with tiny defaults.

The defaults are the "default tiny configs": each trains on the 2-core CPU in minutes (docs/training.md has what
they reach on Brown). One place for them: `contextvec.train.train`, the CLI flags and the tests read them here.
"""

from __future__ import annotations

import warnings
from dataclasses import InitVar, asdict, dataclass
from typing import Any, Literal

from contextvec.errors import OptionError

Kind = Literal["elmo", "mlm", "causal", "vit"]
KINDS: tuple[Kind, ...] = ("elmo", "mlm", "causal", "vit")
IMAGE_POSITIONS = ("learned", "sincos")
STEMS = ("linear", "conv")


@dataclass(frozen=True)
class NetConfig:
    """The network's size. ELMo: dim per direction (vectors are 2*dim), hidden = LSTM cells; transformers: dim =
    hidden size, hidden = MLP width. vit reads dim, hidden, layers, heads, dropout and the three fields after them."""

    dim: int = 128
    hidden: int = 512
    num_layers: int = 2  # how many LSTM layers (ELMo) or transformer blocks the network has
    heads: int = 4
    vocab_size: int = 8000  # subword vocabulary (mlm, causal) or the most frequent words kept (elmo)
    min_count: int = 3  # elmo: words rarer than this are <unk>
    seq_len: int = 128  # tokens per training row (elmo: words per sentence chunk); also the model's window
    dropout: float = 0.1
    patch: int = 2  # vit: a patch is patch x patch pixels
    positions: str = "learned"  # vit: learned (a table the size of the training images) | sincos (2-D, any size)
    stem: str = "linear"  # vit: linear (a patch's own pixel values) | conv (a 3x3 convolution first: neighbours too)
    # deprecated spelling of num_layers, accepted by the constructor until 0.3 (it counts; `layers` elsewhere
    # selects); not stored, so `replace` and `asdict` see num_layers only
    layers: InitVar[int | None] = None

    def __post_init__(self, layers: int | None) -> None:
        if layers is not None:
            warnings.warn(
                "NetConfig(layers=N) is deprecated and will be removed in 0.3: use num_layers=N (it counts the "
                "network's layers; everywhere else in contextvec `layers` selects them).",
                DeprecationWarning,
                stacklevel=3,
            )
            object.__setattr__(self, "num_layers", layers)


@dataclass(frozen=True)
class LoopConfig:
    """How long and how the loop runs."""

    steps: int | None = None  # stop after this many optimizer steps ...
    max_minutes: float | None = None  # ... or this much training time, whichever comes first
    seed: int = 0
    batch_size: int = 32
    lr: float = 2e-3
    warmup: int = 100  # linear warm-up steps, then constant (a run's length is not known in advance)
    checkpoint_every: int = 200  # steps between checkpoints (one is also written when the run ends)
    keep_checkpoints: int = 2
    log_every: int = 10  # steps between lines of train_log.jsonl (the learning curve)
    eval_tokens: int = 50_000  # held-out tokens scored at the end (perplexity)


DEFAULT_NETS: dict[Kind, NetConfig] = {
    "elmo": NetConfig(dim=128, hidden=128, num_layers=2, vocab_size=10_000, seq_len=48),
    "mlm": NetConfig(dim=128, hidden=512, num_layers=4, heads=4, vocab_size=8000, seq_len=128),
    "causal": NetConfig(dim=128, hidden=512, num_layers=4, heads=4, vocab_size=8000, seq_len=128),
    "vit": NetConfig(dim=64, hidden=256, num_layers=4, heads=4, patch=2, dropout=0.0),
}


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise OptionError(
            f"model kind {kind!r} is not one of {', '.join(KINDS)} (elmo: biLSTM LM over words; "
            "mlm: BERT-style masked LM; causal: GPT-style next-token LM; vit: masked-patch model of images)."
        )
    return kind  # type: ignore[return-value]


def check_loop(loop: LoopConfig) -> None:
    if loop.steps is None and loop.max_minutes is None:
        raise OptionError("say how long to train: --steps N and/or --max-minutes M (e.g. --max-minutes 10).")
    if loop.steps is not None and loop.steps < 1:
        raise OptionError(f"--steps {loop.steps} must be >= 1.")
    if loop.max_minutes is not None and not loop.max_minutes > 0:
        raise OptionError(f"--max-minutes {loop.max_minutes} must be > 0.")
    for name in ("batch_size", "checkpoint_every", "keep_checkpoints", "log_every"):
        if getattr(loop, name) < 1:
            raise OptionError(f"{name}={getattr(loop, name)} must be >= 1.")


def check_net(kind: Kind, net: NetConfig) -> None:
    if min(net.dim, net.hidden, net.num_layers, net.heads, net.vocab_size, net.seq_len) < 1:
        raise OptionError(f"network sizes must be >= 1, got {net}.")
    if kind != "elmo" and net.dim % net.heads:
        raise OptionError(f"dim={net.dim} must be a multiple of heads={net.heads}.")
    if kind == "vit":
        if net.patch < 1:
            raise OptionError(f"--patch {net.patch} must be >= 1 pixel.")
        if net.positions not in IMAGE_POSITIONS or net.stem not in STEMS:
            raise OptionError(
                f"--positions {net.positions!r} / --stem {net.stem!r}: choose positions from "
                f"{', '.join(IMAGE_POSITIONS)} and stem from {', '.join(STEMS)}."
            )
        if net.positions == "sincos" and net.dim % 4:
            raise OptionError(f"--positions sincos needs dim={net.dim} to be a multiple of 4.")
    if net.seq_len < 4:
        raise OptionError(f"seq_len={net.seq_len} must be >= 4 tokens.")


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
