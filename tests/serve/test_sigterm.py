"""`contextvec serve` as a real process (issue 14, defect 15): SIGTERM drains and exits 0, not 143."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import contextvec


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_after_a_request_exits_0(model_dir: str) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(contextvec.__file__).parents[1])}
    for name in [k for k in env if k.startswith("CONTEXTVEC_") and k != "CONTEXTVEC_CACHE"]:
        del env[name]  # only the flags below configure this server
    cmd = [sys.executable, "-m", "contextvec.cli", "serve", "--model", model_dir, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 90 s"
            time.sleep(0.2)
        r = httpx.post(url + "/embed/words", json={"texts": ["We sat on the bank."]}, timeout=30)
        assert r.status_code == 200, r.text
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
