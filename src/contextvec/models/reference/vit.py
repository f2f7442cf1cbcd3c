"""The reference transformer for images: pixels -> patches -> the same blocks as text (a small ViT).

    patches    P_t = the pixels of patch t, flattened (p * p * C values), t = r * cols + c in reading order
    x_0        = P_t W_proj + b  +  pos[r, c]       (the static patch embedding; layer 0, as for text)
    conv stem  = the same, with P_t taken from gelu(conv3x3(image)): each pixel also sees its neighbours
    blocks     = model.Block, pre-LN (as ViT): x = x + Attn(Norm(x)); x = x + MLP(Norm(x)); a final Norm
    decoder    = top state -> the p * p * C (normalised) pixels of each patch, for masked-patch modelling

A hidden patch (training) has its pixels zeroed before the stem and its embedding replaced by a learned vector,
so nothing of it reaches the blocks. Positions are a learned (rows, cols, D) table sized to the training images'
grid, or the fixed 2-D sinusoidal matrix (half the dimensions encode the row, half the column), which fits any
size. The folder is config.json (model_type "contextvec-vit") + model.safetensors, like the text models'.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from contextvec.errors import InvalidInputError, ModelLoadError
from contextvec.models.reference.config import TransformerConfig
from contextvec.models.reference.model import Block, _init_weights, run_blocks
from contextvec.models.reference.trace import TransformerOutput
from contextvec.models.registry import IMAGE_MODEL_TYPE, is_image_model_folder

ImagePositions = Literal["learned", "sincos"]
Stem = Literal["linear", "conv"]
MODEL_TYPE = IMAGE_MODEL_TYPE


@dataclass(frozen=True)
class ViTConfig:
    patch: int = 2  # p: a patch is p x p pixels
    channels: int = 1  # C: 1 gray, 3 RGB
    grid: tuple[int, int] = (4, 4)  # (rows, cols) of patches in the training images: the learned table's size
    dim: int = 128  # D
    n_layers: int = 4  # L
    n_heads: int = 4
    mlp_dim: int = 512
    positions: ImagePositions = "learned"
    stem: Stem = "linear"
    stem_channels: int = 16  # conv stem: features per pixel after the 3x3 convolution
    pixel_mean: tuple[float, ...] = (0.5,)  # per channel; the model sees (x - mean) / std of pixels in [0, 1]
    pixel_std: tuple[float, ...] = (0.5,)
    norm_eps: float = 1e-6
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if min(self.patch, self.channels, *self.grid, self.dim, self.n_layers, self.n_heads, self.mlp_dim) < 1:
            raise ModelLoadError(f"every size of a ViT config must be >= 1, got {self}.")
        if len(self.pixel_mean) != self.channels or len(self.pixel_std) != self.channels:
            raise ModelLoadError(
                f"pixel_mean and pixel_std need one value per channel ({self.channels}); got {self.pixel_mean}, "
                f"{self.pixel_std}."
            )
        if min(self.pixel_std) <= 0:
            raise ModelLoadError(f"pixel_std={self.pixel_std} must be > 0.")
        if self.dim % self.n_heads:
            raise ModelLoadError(f"dim={self.dim} must be a multiple of n_heads={self.n_heads}.")
        if self.positions == "sincos" and self.dim % 4:
            raise ModelLoadError(f"2-D sinusoidal positions need dim={self.dim} to be a multiple of 4.")
        if self.positions not in ("learned", "sincos") or self.stem not in ("linear", "conv"):
            raise ModelLoadError(
                f"positions={self.positions!r} / stem={self.stem!r}: choose learned|sincos and linear|conv."
            )

    @property
    def patch_dim(self) -> int:
        """Pixel values in one patch: p * p * C."""
        return self.patch * self.patch * self.channels

    def blocks(self) -> TransformerConfig:
        """The text transformer's config for the blocks: pre-LN LayerNorm, GELU MLP, bidirectional, no head."""
        return TransformerConfig(
            vocab_size=1,  # unused: the blocks never see token ids
            dim=self.dim,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            mlp_dim=self.mlp_dim,
            max_positions=self.grid[0] * self.grid[1],
            norm_eps=self.norm_eps,
            norm_place="pre",
            embed_norm=False,
            final_norm=True,
            dropout=self.dropout,
        )

    def to_json(self) -> dict[str, Any]:
        return {"model_type": MODEL_TYPE, "architectures": ["ContextvecViT"], **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "config.json") -> ViTConfig:
        if data.get("model_type") != MODEL_TYPE:
            raise ModelLoadError(
                f"{where} has model_type {data.get('model_type')!r}, not {MODEL_TYPE!r}: it is not a contextvec image "
                "model (train one with `contextvec train vit IMAGES --out DIR`)."
            )
        fields = {k: v for k, v in data.items() if k not in ("model_type", "architectures")}
        unknown = sorted(set(fields) - set(cls.__dataclass_fields__))
        if unknown:
            raise ModelLoadError(f"{where} has fields this contextvec does not know: {unknown}; upgrade contextvec.")
        for key in ("grid", "pixel_mean", "pixel_std"):
            if key in fields:
                fields[key] = tuple(fields[key])
        return cls(**fields)


def patchify(pixels: torch.Tensor, p: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of p -> (B, T, p*p*C), T = (H/p) * (W/p), patches in reading order."""
    B, H, W, C = pixels.shape
    R, Q = H // p, W // p
    x = pixels.reshape(B, R, p, Q, p, C)  # (B, R, p, Q, p, C): row of patches, row in patch, col, col in patch
    return x.permute(0, 1, 3, 2, 4, 5).reshape(B, R * Q, p * p * C)  # (B, R, Q, p, p, C) -> (B, T, p*p*C)


def unpatchify(patches: torch.Tensor, p: int, grid: tuple[int, int]) -> torch.Tensor:
    """The inverse of patchify: (B, T, p*p*C) -> (B, R*p, Q*p, C)."""
    B, _, P = patches.shape
    R, Q = grid
    C = P // (p * p)
    x = patches.reshape(B, R, Q, p, p, C).permute(0, 1, 3, 2, 4, 5)  # (B, R, p, Q, p, C)
    return x.reshape(B, R * p, Q * p, C)


def sincos_positions(rows: int, cols: int, dim: int) -> torch.Tensor:
    """(rows * cols, dim): the first half encodes the row, the second the column, each as sin and cos of
    position * 10000^(-k / (dim/4)), k = 0 .. dim/4 - 1 (the 1-D transformer encoding, once per axis)."""
    quarter = dim // 4
    freq = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter)  # (dim/4,)

    def axis(n: int) -> torch.Tensor:
        angles = torch.arange(n, dtype=torch.float32)[:, None] * freq[None, :]  # (n, dim/4)
        return torch.cat([angles.sin(), angles.cos()], dim=-1)  # (n, dim/2)

    r, c = axis(rows), axis(cols)
    grid = torch.cat([r[:, None, :].expand(rows, cols, -1), c[None, :, :].expand(rows, cols, -1)], dim=-1)
    return grid.reshape(rows * cols, dim)  # (R, Q, dim) -> (R*Q, dim)


class ViT(nn.Module):
    """Normalised pixels (B, H, W, C), H and W multiples of the patch -> L+1 states (B, T, D) and pixel predictions."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.config = cfg
        self.stem = nn.Conv2d(cfg.channels, cfg.stem_channels, 3, padding=1) if cfg.stem == "conv" else None
        features = cfg.stem_channels if cfg.stem == "conv" else cfg.channels
        self.proj = nn.Linear(cfg.patch * cfg.patch * features, cfg.dim)  # the static embedding of the pixel values
        rows, cols = cfg.grid
        self.pos_emb = nn.Parameter(torch.zeros(rows, cols, cfg.dim)) if cfg.positions == "learned" else None
        self.mask_emb = nn.Parameter(torch.zeros(cfg.dim))  # stands in for a hidden patch
        self.emb_drop = nn.Dropout(cfg.dropout)
        tcfg = cfg.blocks()
        self.blocks = nn.ModuleList(Block(tcfg) for _ in range(cfg.n_layers))
        self.final_norm = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.decoder = nn.Linear(cfg.dim, cfg.patch_dim)  # top state -> the patch's normalised pixels
        self.apply(_init_weights)
        with torch.no_grad():
            if self.pos_emb is not None:
                nn.init.normal_(self.pos_emb, std=0.02)
            nn.init.normal_(self.mask_emb, std=0.02)

    def positions(self, rows: int, cols: int, device: torch.device) -> torch.Tensor:
        """(rows * cols, D) position vectors of a grid of patches, from the top-left corner."""
        if self.pos_emb is None:
            return sincos_positions(rows, cols, self.config.dim).to(device)
        R, Q = self.config.grid
        if rows > R or cols > Q:
            raise InvalidInputError(
                f"an image of {rows} x {cols} patches exceeds this model's learned position table of {R} x {Q} "
                f"patches ({R * self.config.patch} x {Q * self.config.patch} pixels); crop or resize the image, or "
                "train with --positions sincos, which fits any size."
            )
        return self.pos_emb[:rows, :cols].reshape(rows * cols, -1)

    def embed(self, pixels: torch.Tensor, hidden: torch.Tensor | None = None) -> torch.Tensor:
        """x_0 (B, T, D) of normalised pixels (B, H, W, C); `hidden` (B, T) True = a patch the model must not see."""
        p = self.config.patch
        B, H, W, _ = pixels.shape
        if hidden is not None:  # zero the hidden patches' pixels, so that no stem sees them from a neighbour
            keep = (~hidden).to(pixels.dtype).reshape(B, H // p, 1, W // p, 1, 1)  # (B, R, 1, Q, 1, 1)
            pixels = (pixels.reshape(B, H // p, p, W // p, p, -1) * keep).reshape(pixels.shape)
        feats = pixels
        if self.stem is not None:
            feats = F.gelu(self.stem(pixels.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)  # (B, H, W, stem_channels)
        x = self.proj(patchify(feats, p))  # (B, T, p*p*features) -> (B, T, D)
        if hidden is not None:
            x = torch.where(hidden[..., None], self.mask_emb.to(x.dtype), x)  # (B, T, D)
        x = x + self.positions(H // p, W // p, x.device)  # (T, D) broadcast over B
        out: torch.Tensor = self.emb_drop(x)
        return out

    def forward(
        self, pixels: torch.Tensor, hidden: torch.Tensor | None = None, *, trace: bool = False
    ) -> TransformerOutput:
        """`logits` are the predicted normalised pixels of every patch, (B, T, p*p*C)."""
        p = self.config.patch
        height, width, channels = pixels.shape[1:]
        if channels != self.config.channels or height % p or width % p:
            raise InvalidInputError(
                f"pixels of shape {tuple(pixels.shape[1:])} do not fit this model ({self.config.channels} channel(s), "
                f"height and width multiples of {p}); contextvec.vision.PatchEmbedder pads and checks images for you."
            )
        x = self.embed(pixels, hidden)  # (B, T, D)
        mask = torch.zeros(1, 1, 1, x.shape[1], dtype=x.dtype, device=x.device)  # every patch sees every patch
        states, traces = run_blocks(self.blocks, self.final_norm, x, mask, None, trace)
        return TransformerOutput(states, self.decoder(states[-1]), traces)


def save_vit(model: ViT, folder: str | Path) -> None:
    """config.json + model.safetensors (the names of this module's state dict)."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(model.config.to_json(), indent=2), encoding="utf-8")


is_vit_folder = is_image_model_folder  # True when a folder holds a contextvec image model


def load_vit(folder: str | Path) -> ViT:
    """A folder written by save_vit (or `contextvec train vit`), every weight's shape checked."""
    from safetensors.torch import load_file

    path = Path(folder)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(
            f"{str(path)!r} is not an image model folder (no config.json); give a folder written by "
            "`contextvec train vit`."
        )
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not read {config_path} ({exc}).") from None
    cfg = ViTConfig.from_json(data, str(config_path))
    weights = path / "model.safetensors"
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for missing or damaged files
        raise ModelLoadError(f"could not read weights {str(weights)!r} ({type(exc).__name__}: {exc}).") from None
    model = ViT(cfg)
    ours = model.state_dict()
    missing, unexpected = sorted(set(ours) - set(state)), sorted(set(state) - set(ours))
    if missing or unexpected:
        raise ModelLoadError(f"{weights}: missing weights {missing[:3]}, unexpected {unexpected[:3]}.")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(ours[name].shape):
            raise ModelLoadError(
                f"{weights}: {name!r} has shape {tuple(tensor.shape)}, expected {tuple(ours[name].shape)}."
            )
    model.load_state_dict(state)
    return model.eval()


def n_params(model: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())
