"""Input files: plain text (one text per line) or JSON Lines, read line by line with errors naming file and line.

txt   : each non-blank line is one text (blank lines separate nothing and are skipped; `line` keeps the number).
jsonl : each line is {"text": str, "id"?: str|int, "spans"?: [[start, end], ...]}; blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from contextvec.errors import InputFileError

InputFormat = Literal["auto", "txt", "jsonl"]


@dataclass(frozen=True)
class Record:
    line: int  # 1-based line number in the input file
    text: str
    id: str | None = None
    spans: tuple[tuple[int, int], ...] | None = None


def detect_format(path: Path, fmt: InputFormat) -> Literal["txt", "jsonl"]:
    if fmt != "auto":
        return fmt
    return "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson"} else "txt"


def read_records(path: Path, fmt: InputFormat = "auto") -> Iterator[Record]:
    """Stream records from `path`; malformed lines raise InputFileError naming the file and line."""
    if detect_format(path, fmt) == "jsonl":
        for number, obj in read_json_objects(path):
            yield _record(path, number, obj)
    else:
        for number, line in read_lines(path):
            yield Record(line=number, text=line)


def read_json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file; anything else is an InputFileError."""
    for number, line in read_lines(path):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}).") from None
        if not isinstance(obj, dict):
            raise InputFileError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}.")
        yield number, obj


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for each non-blank UTF-8 line; a BOM is dropped."""
    if path.is_dir():
        raise InputFileError(f"input {str(path)!r} is a folder; give a .txt or .jsonl file inside it.")
    if not path.is_file():
        raise InputFileError(f"input file {str(path)!r} does not exist.")
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{path}:{number}: not valid UTF-8 (byte {exc.start}); re-encode the file as UTF-8."
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")  # a BOM is file metadata, not text
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line


def _record(path: Path, number: int, obj: dict[str, Any]) -> Record:
    where = f"{path}:{number}"
    if not isinstance(obj.get("text"), str):
        raise InputFileError(f'{where}: each line must be an object with a string "text" field.')
    unknown = sorted(set(obj) - {"text", "id", "spans"})
    if unknown:
        raise InputFileError(f'{where}: unknown field(s) {unknown}; valid fields: "text", "id", "spans".')
    rid = obj.get("id")
    if rid is not None and not isinstance(rid, str | int):
        raise InputFileError(f'{where}: "id" must be a string or an integer.')
    spans = obj.get("spans")
    parsed: tuple[tuple[int, int], ...] | None = None
    if spans is not None:
        ok = isinstance(spans, list) and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
            for s in spans
        )
        if not ok:
            raise InputFileError(f'{where}: "spans" must be a list of [start, end] integer pairs.')
        parsed = tuple((s[0], s[1]) for s in spans)
    return Record(line=number, text=obj["text"], id=None if rid is None else str(rid), spans=parsed)
