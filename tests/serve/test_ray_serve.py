"""The app as a Ray Serve deployment: a local Ray started here (loopback, 2 CPUs), 2 replicas of the tiny BERT saved
as a model folder. Both replicas answer, and their answers are the Python API's."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

import contextvec
from contextvec.errors import OptionError
from contextvec.loader import load_contextual
from contextvec.serve.ray_deploy import REPLICA_HEADER, RayServeSettings, app_builder, run, stop
from contextvec.serve.settings import ServerSettings

TEXTS = ["We sat on the bank of the river.", "The bank approved my loan!", "it was too tired"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ray_url(model_dir: str) -> Iterator[str]:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.serve")
    from ray import serve

    src = str(Path(contextvec.__file__).parents[1])  # the replicas import this checkout's contextvec, not another
    ray.init(
        address="local",  # a new Ray of its own, even if another process on this machine runs one
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": src, "OMP_NUM_THREADS": "1"}},
    )
    try:
        settings = ServerSettings(models=[model_dir], port=_free_port())
        url = run(settings, RayServeSettings(min_replicas=2, max_replicas=2, replica_cpus=0.5))
        yield url
        stop()
    finally:
        serve.shutdown()
        ray.shutdown()


def test_settings_refuse_inconsistent_replica_counts() -> None:
    with pytest.raises(ValueError, match="below min_replicas"):
        RayServeSettings(min_replicas=3, max_replicas=2)
    with pytest.raises(ValueError, match="never reach the target"):
        RayServeSettings(target_ongoing_requests=100, max_ongoing_requests=10)
    fixed = RayServeSettings(min_replicas=2, max_replicas=2).deployment_options()
    assert fixed["num_replicas"] == 2 and "autoscaling_config" not in fixed
    scaling = RayServeSettings(min_replicas=1, max_replicas=8, target_ongoing_requests=4).deployment_options()
    assert "num_replicas" not in scaling
    assert scaling["autoscaling_config"]["max_replicas"] == 8
    assert scaling["autoscaling_config"]["target_ongoing_requests"] == 4


def test_app_builder_refuses_unknown_settings() -> None:
    with pytest.raises(OptionError, match="unknown setting\\(s\\) replicas.*valid: .*max_replicas"):
        app_builder({"models": "minilm", "replicas": "4"})
    with pytest.raises(OptionError, match="max_replicas"):
        app_builder({"max_replicas": "0"})


def test_both_replicas_answer_with_the_python_api_vectors(ray_url: str, model_dir: str) -> None:
    ref_sentences = load_contextual(model_dir, device="cpu").embed_sentences(TEXTS).vectors
    ref_words = load_contextual(model_dir, device="cpu").embed_words(TEXTS)

    def ask(i: int) -> tuple[str, np.ndarray, np.ndarray]:
        with httpx.Client(base_url=ray_url, timeout=60) as client:
            s = client.post("/v1/embeddings", json={"input": TEXTS, "encoding_format": "float"})
            w = client.post("/embed/words", json={"texts": TEXTS})
        assert s.status_code == 200 and w.status_code == 200, (s.text, w.text)
        assert s.headers[REPLICA_HEADER] and w.headers[REPLICA_HEADER]
        sentences = np.array([d["embedding"] for d in s.json()["data"]], dtype=np.float32)
        words = np.array([it["vector"] for t in w.json()["data"] for it in t["items"]], dtype=np.float32)
        return s.headers[REPLICA_HEADER], sentences, words

    replicas: set[str] = set()
    deadline = time.monotonic() + 120  # Ray's router picks replicas at random: a few rounds of 8 reach both
    with ThreadPoolExecutor(8) as pool:
        while len(replicas) < 2 and time.monotonic() < deadline:
            for replica, sentences, words in pool.map(ask, range(8)):
                replicas.add(replica)
                np.testing.assert_allclose(sentences, ref_sentences, atol=1e-5)
                np.testing.assert_allclose(words, ref_words.vectors, atol=1e-5)
    assert len(replicas) == 2, replicas
    health = httpx.get(ray_url + "/health", timeout=30)
    assert health.status_code == 200 and health.json()["models"] == [model_dir]


@contextmanager
def already_stopped() -> Iterator[threading.Event]:
    stopping = threading.Event()
    stopping.set()
    yield stopping


def test_serve_ray_flags_reach_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import contextvec.serve.ray_deploy as ray_deploy
    from contextvec.cli.main import app

    seen: dict[str, object] = {}

    def fake_run(settings: ServerSettings, ray_settings: RayServeSettings, *, extensions: object = ()) -> str:
        seen.update(settings=settings, ray=ray_settings, extensions=extensions)
        return f"http://{settings.host}:{settings.port}"

    monkeypatch.setattr(ray_deploy, "run", fake_run)
    monkeypatch.setattr(ray_deploy, "stop", lambda: seen.setdefault("stopped", True))
    monkeypatch.setattr("contextvec.cli.serve._stop_signals", already_stopped)
    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "is_initialized", lambda: True)  # as after run(): the CLI deletes the app, leaves Ray
    monkeypatch.setattr(ray, "shutdown", lambda: seen.setdefault("ray_shutdown", True))
    monkeypatch.setattr("contextvec.cli.serve._check_bind", lambda host, port: None)
    monkeypatch.setenv("CONTEXTVEC_TARGET_ONGOING_REQUESTS", "8")
    args = ["serve", "--ray", "-m", "minilm", "--min-replicas", "2", "--max-replicas", "6", "--replica-cpus", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 to 6 replicas" in result.output and seen["stopped"] is seen["ray_shutdown"] is True
    ray_settings = seen["ray"]
    assert isinstance(ray_settings, RayServeSettings)
    assert (ray_settings.min_replicas, ray_settings.max_replicas, ray_settings.replica_cpus) == (2, 6, 2.0)
    assert ray_settings.target_ongoing_requests == 8  # from the environment
    assert seen["extensions"] == []  # no --ui: no explorer


def test_serve_refuses_ray_flags_without_ray_and_bad_replica_counts() -> None:
    from typer.testing import CliRunner

    from contextvec.cli.main import app

    no_ray = CliRunner().invoke(app, ["serve", "--max-replicas", "4"])
    assert no_ray.exit_code != 0 and "--max-replicas only apply to a Ray Serve deployment; add --ray" in no_ray.output
    bad = CliRunner().invoke(app, ["serve", "--ray", "--min-replicas", "3", "--max-replicas", "2"])
    assert bad.exit_code == 2 and "max_replicas (2) is below min_replicas (3)" in bad.output
