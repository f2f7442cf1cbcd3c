"""The HTTP API fuzzed from its own OpenAPI schema (issue 14, defect 13): schemathesis with all checks and a bounded
number of examples against a real uvicorn on loopback, with the API key set; no check may fail, and every error
answer has the documented {"error": {"message", "type", "code"}} shape."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import make_settings, running

from contextvec import Embedder
from contextvec.serve.app import create_app

pytest.importorskip("schemathesis")

# positive_data_acceptance: a schema-valid body may still be refused for what JSON Schema cannot say
# (400: no visible character, a span off word boundaries, a word missing from a text; 404: an unknown model name;
# 413: over the server's limits). Every one of those statuses is documented on the operation.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "404", "413"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""
EXAMPLES = 25  # per operation and phase; the run is also cut at 50 s (two shared cores: ~3,000 requests)


def _schemathesis() -> list[str]:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]


def test_the_api_passes_every_schemathesis_check(bert_embedder: Embedder, tmp_path: Path) -> None:
    settings = make_settings(api_key="s3cret", max_texts_per_request=8, max_chars_per_text=300, request_timeout_s=30)
    app = create_app(settings, embedders={"tiny": bert_embedder})
    (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
    har = tmp_path / "run.har"
    with running(app) as (url, _):
        args = [
            f"{url}/openapi.json",
            *("-H", "Authorization: Bearer s3cret"),
            *("--checks", "all", "--max-examples", str(EXAMPLES), "--seed", "14", "--workers", "1"),
            *("--phases", "examples,coverage,fuzzing", "--request-timeout", "30", "--max-time", "50"),
            *("--report", "har", "--report-har-path", str(har)),
        ]
        cmd = [*_schemathesis(), "--config-file", str(tmp_path / "schemathesis.toml"), "run", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    errors = [e["response"] for e in entries if e["response"]["status"] >= 400]
    assert len(entries) > 100 and errors, report[-2000:]
    print(f"schemathesis: {len(entries)} requests, {len(errors)} error answers, all in the documented shape")
    for response in errors:
        body = json.loads(response["content"]["text"])
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"}, body
        assert body["error"]["code"] == response["status"] and body["error"]["message"], body
