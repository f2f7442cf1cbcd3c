"""manifest.json: what an index folder holds, written atomically (temp file, fsync, rename) after every shard.

It names the model, the job spec (level, layers as asked), the spine's resolved layer descriptions, the
contextvec version, the input fingerprint, and each finished shard with its document range, row count and
SHA-256. A resumed build trusts a shard only if its file still has that checksum.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contextvec.errors import IndexStateError
from contextvec.io.atomic import write_atomic

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass
class ShardInfo:
    shard: int
    file: str | None  # relative to the index folder; None for a shard whose documents gave no rows
    first_seq: int  # documents [first_seq, end_seq) of the corpus stream
    end_seq: int
    rows: int
    sha256: str
    bytes: int


@dataclass
class Manifest:
    spec: dict[str, Any]  # JobSpec.to_json()
    input: dict[str, Any]  # {"source", "fingerprint", "documents"}
    shard_rows: int
    version: str
    layers: dict[str, str] = field(default_factory=dict)  # level -> the spine's resolved description
    model_id: str = ""
    dim: int = 0
    shards: list[ShardInfo] = field(default_factory=list)
    shards_planned: int | None = None  # known once the corpus has been read to the end
    complete: bool = False  # all shards written and the LanceDB table built
    table: dict[str, Any] = field(default_factory=dict)  # level -> {"rows", "index"}
    format: int = FORMAT

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise IndexStateError(
                f"{folder} is not a contextvec index (no {MANIFEST}); build one with "
                "`contextvec index build CORPUS --out DIR`."
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            problem = _schema_problem(raw)
            if problem:
                raise ValueError(problem)
            raw["shards"] = [ShardInfo(**s) for s in raw["shards"]]
            return cls(**raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexStateError(f"{path} is damaged ({exc}); rebuild with --overwrite.") from None

    def save(self, folder: Path) -> None:
        """Write manifest.json atomically: a crash leaves the old or the new one, never half of one."""
        data = json.dumps(asdict(self), indent=1).encode("utf-8")
        write_atomic(folder / MANIFEST, data, then=", then re-run the same command: finished shards are kept")

    def done(self) -> dict[int, ShardInfo]:
        return {s.shard: s for s in self.shards}

    def record(self, info: ShardInfo) -> None:
        self.shards = sorted([s for s in self.shards if s.shard != info.shard] + [info], key=lambda s: s.shard)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)


_TYPES: dict[str, type | tuple[type, ...]] = {
    "spec": dict, "input": dict, "shard_rows": int, "version": str, "layers": dict, "model_id": str, "dim": int,
    "shards": list, "shards_planned": (int, type(None)), "complete": bool, "table": dict, "format": int,
}  # fmt: skip
_SHARD_TYPES: dict[str, type | tuple[type, ...]] = {
    "shard": int, "file": (str, type(None)), "first_seq": int, "end_seq": int, "rows": int, "sha256": str, "bytes": int,
}  # fmt: skip


def _schema_problem(raw: Any) -> str | None:
    """What does not fit the manifest's schema (types, format, shard files inside the folder), or None."""
    if not isinstance(raw, dict):
        return f"a JSON {type(raw).__name__}, not an object"
    for name, kind in _TYPES.items():
        if name in raw and (not isinstance(raw[name], kind) or (kind is int and isinstance(raw[name], bool))):
            return f"{name} is {raw[name]!r}"
    if raw.get("format", FORMAT) != FORMAT:
        return f"format {raw['format']} is not {FORMAT}, the one this contextvec reads"
    for s in raw.get("shards", []):
        if not isinstance(s, dict) or set(s) != set(_SHARD_TYPES):
            return f"shard entry {s!r} does not have exactly {', '.join(_SHARD_TYPES)}"
        for name, kind in _SHARD_TYPES.items():
            if not isinstance(s[name], kind) or (kind is int and isinstance(s[name], bool)):
                return f"shard {s.get('shard')!r}: {name} is {s[name]!r}"
        file = s["file"]
        if file is not None and (Path(file).is_absolute() or ".." in Path(file).parts):
            return f"shard {s['shard']}: file {file!r} is outside the index folder"
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, info: ShardInfo) -> bool:
    """Whether a finished shard's file is still there, whole and unchanged."""
    if info.file is None:
        return info.rows == 0
    path = folder / info.file
    return path.is_file() and path.stat().st_size == info.bytes and sha256_file(path) == info.sha256
