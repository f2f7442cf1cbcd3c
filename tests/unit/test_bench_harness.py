"""benchmarks/harness.py: rounds, medians and ratios, the machine description, the lock and result files."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "harness.py"

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 avx512fp16 amx_tile amx_int8 amx_bf16 avx_vnni

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx avx2 avx512f
"""


@pytest.fixture(scope="module")
def h() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("harness", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["harness"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("harness", None)


def test_rounds_warm_up_then_rotate(h: ModuleType) -> None:
    calls: list[str] = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    t = h.rounds(fns, runs=4, warmup=2)
    assert calls[:6] == list("abcabc")  # two untimed warm-ups each
    assert calls[6:] == list("abcbcacababc")  # one run each per round, the order turned by one
    assert {k: len(v) for k, v in t.wall.items()} == {"a": 4, "b": 4, "c": 4}
    assert all(x >= 0 for v in t.cpu.values() for x in v)


def test_rounds_fixed_order_no_warm_up(h: ModuleType) -> None:
    calls: list[str] = []
    t = h.rounds({n: (lambda n=n: calls.append(n)) for n in "xy"}, runs=3, warmup=0, rotate=False)
    assert calls == list("xyxyxy")
    assert set(t.medians()) == {"x", "y"}


def test_medians_and_ratios_on_known_numbers(h: ModuleType) -> None:
    peer, ours = [2.0, 4.0, 9.0], [1.0, 4.0, 3.0]  # per-round ratios 2, 1, 3
    assert h.median_of_ratios(peer, ours) == 2.0
    assert h.ratio_of_medians(peer, ours) == pytest.approx(4.0 / 3.0)
    with pytest.raises(ValueError):  # rounds must pair up
        h.median_of_ratios(peer, ours[:2])
    got = h.ratios({"ours": 1.0, "st": 2.0, "onnx": 0.5}, ours=["ours", "onnx"])
    assert got == {"ours_vs_st": 2.0, "ours_vs_onnx": 0.5, "onnx_vs_ours": 2.0, "onnx_vs_st": 4.0}


def test_percentiles_match_numpy(h: ModuleType) -> None:
    ms = list(np.random.default_rng(0).exponential(5.0, size=137))
    got = h.percentiles(ms)
    assert got["p50_ms"] == pytest.approx(float(np.percentile(ms, 50)))
    assert got["p99_ms"] == pytest.approx(float(np.percentile(ms, 99)))
    assert h.percentiles([3.0]) == {"p50_ms": 3.0, "p99_ms": 3.0}


def test_cpu_flags_and_model_from_cpuinfo(h: ModuleType) -> None:
    flags = h.cpu_flags(CPUINFO)
    assert flags == sorted(
        ["avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "avx_vnni"]
    )
    assert h.cpu_flags("flags : sse2 avx avx512fp16\n") == []  # avx512fp16 is not avx512f
    assert h.cpu_model(CPUINFO) == "Intel(R) Xeon(R) Platinum 8480+"
    assert h.cpu_summary({"cpu_count": 2, "cpu_flags": ["avx2"]}) == "2 cores, AVX2, no AVX-512"
    assert h.cpu_summary({"cpus": 8, "cpu_flags": flags}) == "8 cores, AVX-512 VNNI"  # older result files


def test_machine_description(h: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("UNRELATED_SETTING", "x")
    m = h.machine(CPUINFO)
    assert m["cpu_model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert "amx_int8" in m["cpu_flags"]
    assert m["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "UNRELATED_SETTING" not in m["env"]
    assert m["numpy"] == np.__version__
    assert isinstance(m["cpu_count"], int)


def test_result_round_trip(h: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTVEC_BENCH_RESULTS", str(tmp_path / "out"))
    data = {"ratio": 1.5, "word": "naïve"}
    path = h.write_result("x.json", data)
    assert path == tmp_path / "out" / "x.json"
    back = h.read_result("x.json")
    assert back["ratio"] == 1.5 and back["word"] == "naïve"
    assert back["machine"]["cpu_flags"] == h.cpu_flags()
    assert "machine" not in data  # the caller's dict is left alone
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]  # no temp file left beside it
    h.write_result("rows.json", [{"a": 1}, {"a": 2}])
    assert h.rows(h.read_result("rows.json")) == [{"a": 1}, {"a": 2}]
    assert h.rows([{"a": 1}]) == [{"a": 1}]  # an older file: a bare list
    h.write_result(tmp_path / "plain.json", {"runs": []}, with_machine=False)
    assert json.loads((tmp_path / "plain.json").read_text()) == {"runs": []}
    assert h.read_result("missing.json") is None


def test_heavy_lock_excludes_others_and_nests(h: ModuleType, tmp_path: Path) -> None:
    lock = tmp_path / "heavy.lock"
    with h.heavy_lock(lock):
        with open(lock) as other, pytest.raises(BlockingIOError):  # another holder must wait
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with h.heavy_lock(lock):  # already held here (as under `flock FILE python ...`): no deadlock
            pass
    with open(lock) as other:  # released
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with h.heavy_lock(""), h.heavy_lock(tmp_path / "no" / "such" / "dir.lock"):  # off, unopenable: no-ops
        pass


def test_sampler_keeps_peaks_per_phase(h: ModuleType) -> None:
    s = h.Sampler("load")
    s.start()
    s.enter("work")
    s.stop()
    assert set(s.peaks) == {"load", "work"}
    assert all(p["VmRSS"] > 0 for p in s.peaks.values())
    assert h.peak_rss_mib() >= max(p["VmRSS"] for p in s.peaks.values()) - 1  # the high-water mark
