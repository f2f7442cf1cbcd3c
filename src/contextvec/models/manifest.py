"""What a finished cache entry holds, recorded when it is built and verified every time it is used.

`.contextvec-manifest.json` lists every file with its size, a sampled hash (the first and last 64 KiB and 62 more
blocks spread evenly: milliseconds for a 400 MB file, yet any truncation, and any overwrite larger than the
spacing between blocks, changes it) and a full BLAKE2b hash for an explicit deep check. A `.safetensors` file is
also checked structurally: its header must describe exactly the bytes that follow it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

MANIFEST = ".contextvec-manifest.json"
_BLOCK = 64 << 10  # bytes per sampled block
_SAMPLES = 64  # blocks per file (first and last included)


def _sampled_hash(path: Path, size: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    with path.open("rb") as fh:
        if size <= _BLOCK * _SAMPLES:
            h.update(fh.read())
        else:
            step = (size - _BLOCK) / (_SAMPLES - 1)
            for k in range(_SAMPLES):
                fh.seek(round(k * step))
                h.update(fh.read(_BLOCK))
    return h.hexdigest()


def _full_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: Path) -> None:
    """Record every file of a freshly built entry (call before the entry is published)."""
    entries: dict[str, Any] = {}
    for p in _files(folder):
        size = p.stat().st_size
        entries[p.relative_to(folder).as_posix()] = {
            "size": size,
            "sampled": _sampled_hash(p, size),
            "blake2b": _full_hash(p),
        }
    (folder / MANIFEST).write_text(json.dumps({"version": 1, "files": entries}, indent=1))


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file is structurally broken (truncated, extended, bad header), or None if it is whole."""
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if not 2 <= n <= size - 8:
                return f"{path.name}: header length {n} does not fit in {size} bytes"
            header = json.loads(fh.read(n))
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return f"{path.name}: unreadable header ({exc})"
    expected = 8 + n + max(ends, default=0)
    if expected != size:
        return f"{path.name}: {size} bytes on disk but its header describes {expected}"
    return None


def _recorded(folder: Path) -> dict[str, dict[str, Any]] | str:
    """The manifest's files (relative path -> size and hashes), {} without a manifest, or why it is malformed."""
    manifest_path = folder / MANIFEST
    try:
        doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        return f"{MANIFEST} is unreadable ({type(exc).__name__})"
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("files"), dict):
        return f"{MANIFEST} is not a version 1 manifest (an object with a 'files' object)"
    files: dict[str, Any] = doc["files"]
    for rel, meta in files.items():
        parts = Path(rel).parts
        if Path(rel).is_absolute() or not parts or ".." in parts:
            return f"{MANIFEST} names {rel!r}, a path outside the entry"
        if not (
            isinstance(meta, dict)
            and isinstance(meta.get("size"), int)
            and not isinstance(meta["size"], bool)
            and meta["size"] >= 0
            and all(isinstance(meta.get(h), str) for h in ("sampled", "blake2b"))
        ):
            return f"{MANIFEST} has a malformed record for {rel!r} (needs size, sampled and blake2b)"
    return files


def entry_problem(folder: Path, *, full: bool = False) -> str | None:
    """Why a cache entry is damaged, or None if it matches its manifest; `full` also compares full hashes.

    An entry without a manifest (built by an older contextvec) is checked structurally only; a malformed manifest
    is a problem like any other damage (the cache rebuilds the entry), never an exception.
    """
    recorded = _recorded(folder)
    if isinstance(recorded, str):
        return recorded
    for rel, meta in recorded.items():
        p = folder / rel
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            return f"{rel} is missing"
        if size != meta["size"]:
            return f"{rel} has {size} bytes, {meta['size']} were written"
        if _sampled_hash(p, size) != meta["sampled"] or (full and _full_hash(p) != meta["blake2b"]):
            return f"{rel}'s content changed since it was written"
    for p in folder.glob("*.safetensors"):
        problem = safetensors_problem(p)
        if problem:
            return problem
    return None


def has_manifest(folder: Path) -> bool:
    return os.path.isfile(folder / MANIFEST)
