"""What every benchmark shares: timing rounds, medians and ratios, the machine description, the heavy-work lock,
memory sampling and result files. A benchmark script keeps only what it measures.

    from harness import heavy_lock, machine, ratio_of_medians, rounds, write_result

    with heavy_lock():                                  # one wall-clock measurement on the machine at a time
        t = rounds({"ours": ours, "peer": peer}, runs=5)  # warm-up each, then 5 rounds, order rotated per round
    write_result("x.json", {"ratio": ratio_of_medians(t.wall["peer"], t.wall["ours"])})  # machine embedded

Results go to benchmarks/results/ unless CONTEXTVEC_BENCH_RESULTS names another folder (smoke runs of a script
write there, so the committed results stay as they are). The lock is /work/heavy.lock unless
CONTEXTVEC_HEAVY_LOCK names another file ("" turns it off).
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
ENV_KEYS = re.compile(r"OPENBLAS_\w+|OMP_NUM_THREADS|MKL_NUM_THREADS|ORT_\w+")  # what sets a library's threads


# ---- timing rounds -------------------------------------------------------------------------------------------


@dataclass
class Rounds:
    """Seconds per run of each contestant, in run order: wall clock and this process's CPU time."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(t) for name, t in self.wall.items()}


def rounds(contestants: Mapping[str, Callable[[], object]], runs: int, warmup: int = 1, rotate: bool = True) -> Rounds:
    """Run every contestant `warmup` times untimed, then `runs` rounds of one timed run each.

    Rounds interleave the contestants, so a slow spell of a shared machine hits all of them alike; with `rotate`
    the order turns by one each round (A B C, B C A, ...), so none always runs right after the same other one.
    """
    names = list(contestants)
    for _ in range(warmup):
        for fn in contestants.values():
            fn()
    out = Rounds({n: [] for n in names}, {n: [] for n in names})
    for r in range(runs):
        k = r % len(names) if rotate and names else 0
        for name in names[k:] + names[:k]:
            c0, t0 = time.process_time(), time.perf_counter()
            contestants[name]()
            out.wall[name].append(time.perf_counter() - t0)
            out.cpu[name].append(time.process_time() - c0)
    return out


def median_time(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall seconds of `runs` timed runs of one function after `warmup` untimed ones."""
    return statistics.median(rounds({"fn": fn}, runs, warmup).wall["fn"])


def latencies(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[Any], list[float]]:
    """Call `fn` on each item once: (its results, milliseconds per call)."""
    results, ms = [], []
    for item in items:
        t0 = time.perf_counter()
        results.append(fn(item))
        ms.append((time.perf_counter() - t0) * 1000)
    return results, ms


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50 and p99 (linear interpolation, as numpy's default) of latencies in milliseconds."""
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {"p50_ms": float(statistics.median(ms)), "p99_ms": float(q[98])}


# ---- medians and ratios --------------------------------------------------------------------------------------


def ratio_of_medians(num: Sequence[float], den: Sequence[float]) -> float:
    """median(num) / median(den): the headline ratio of two contestants' times."""
    return statistics.median(num) / statistics.median(den)


def median_of_ratios(num: Sequence[float], den: Sequence[float]) -> float:
    """The median of each round's own ratio num[i] / den[i]: a drift of the machine between rounds cancels."""
    return statistics.median([a / b for a, b in zip(num, den, strict=True)])


def ratios(medians: Mapping[str, float], ours: Sequence[str]) -> dict[str, float]:
    """ "A_vs_B": B's median / A's (above 1: A is faster), for each A in `ours` and every other contestant B."""
    return {f"{a}_vs_{b}": medians[b] / medians[a] for a in medians if a in ours for b in medians if b != a}


# ---- the machine -----------------------------------------------------------------------------------------------


def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text() if path.exists() else ""


def cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """The vector-instruction flags that decide which kernels run (AVX2, AVX-512, VNNI, BF16, AMX), sorted."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    return sorted(set(re.findall(r"\b(" + "|".join(CPU_FLAGS) + r")\b", text)))


def cpu_model(cpuinfo: str | None = None) -> str:
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    found = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    return found.group(1).strip() if found else (platform.processor() or platform.machine())


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine(cpuinfo: str | None = None) -> dict[str, Any]:
    """What a result was measured on: CPU model, cores, flags, Python, torch / numpy versions, thread settings."""
    out: dict[str, Any] = {
        "cpu_model": cpu_model(cpuinfo),
        "cpu_count": os.cpu_count(),
        "cpu_flags": cpu_flags(cpuinfo),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "env": {k: v for k, v in sorted(os.environ.items()) if ENV_KEYS.fullmatch(k)},
    }
    torch = sys.modules.get("torch")  # its thread count only where the benchmark uses torch (importing is slow)
    if torch is not None:
        out["torch_threads"] = torch.get_num_threads()
    return out


def cpu_summary(m: Mapping[str, Any]) -> str:
    """A result's machine in a few words: cores and the widest vector instructions it had (old and new files)."""
    flags = set(m.get("cpu_flags", []))
    widest = "AVX-512" + (" VNNI" if "avx512_vnni" in flags else "") if "avx512f" in flags else "AVX2, no AVX-512"
    return f"{m.get('cpu_count', m.get('cpus', '?'))} cores, {widest}"


# ---- the heavy-work lock ---------------------------------------------------------------------------------------


def _holds(path: Path) -> bool:
    """Whether this process already has `path` open: `flock FILE python ...` passes its locked descriptor on."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return False
    for fd in fds.iterdir():
        try:
            if os.path.samefile(fd, path):
                return True
        except OSError:
            continue
    return False


@contextmanager
def heavy_lock(path: str | Path | None = None) -> Iterator[None]:
    """Hold an exclusive flock on the heavy-work lock file for the block, so timings on a shared machine do not
    overlap. A no-op where flock is unavailable, the path is "" or cannot be opened, or the caller already holds it.
    """
    name = os.environ.get("CONTEXTVEC_HEAVY_LOCK", "/work/heavy.lock") if path is None else str(path)
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    if not name or _holds(Path(name)):
        yield
        return
    try:
        fh = open(name, "a")  # noqa: SIM115 -- held for the whole block
    except OSError:
        yield
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # someone else is measuring: say why nothing happens, then wait
            print(f"waiting for {name}", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---- memory --------------------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident set so far, MiB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MEMORY_FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def memory_status() -> dict[str, float]:
    """/proc/self/status memory fields in MiB: RssAnon are allocations, RssFile mapped files and libraries."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in MEMORY_FIELDS:
            out[key] = int(value.split()[0]) / 1024  # kB -> MiB
    return out


class Sampler:
    """Peak of each memory field per phase, sampled every 20 ms in a thread: `start()`, `enter(phase)`, `stop()`."""

    def __init__(self, phase: str = "start") -> None:
        self.phase = phase
        self.t0 = time.perf_counter()
        self.timeline: list[tuple[float, str, float, float]] = []  # (s, phase, RssAnon, RssFile)
        self.peaks: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        now = memory_status()
        peak = self.peaks.setdefault(self.phase, dict.fromkeys(now, 0.0))
        for key, value in now.items():
            peak[key] = max(peak[key], value)
        self.timeline.append((round(time.perf_counter() - self.t0, 2), self.phase, now["RssAnon"], now["RssFile"]))

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def enter(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ---- result files ----------------------------------------------------------------------------------------------


def results_dir() -> Path:
    """benchmarks/results, or the folder CONTEXTVEC_BENCH_RESULTS names (for smoke runs)."""
    return Path(os.environ.get("CONTEXTVEC_BENCH_RESULTS") or HERE / "results")


def result_path(target: str | Path) -> Path:
    """A bare name is a file in the results folder; a Path is used as it is."""
    return target if isinstance(target, Path) else results_dir() / target


def write_text(path: Path, text: str) -> None:
    """Write a file in one step: readers see the old file or the new one (contextvec's atomic writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        from contextvec.io.atomic import publish, temp_path
    except ImportError:  # a peer's venv without contextvec (st_int8_parity.py): a plain write
        path.write_text(text, encoding="utf-8")
        return
    tmp = temp_path(path)
    tmp.write_text(text, encoding="utf-8")
    publish(tmp, path)


def write_result(target: str | Path, data: Any, *, with_machine: bool = True) -> Path:
    """Write a JSON result with the machine description under "machine" (a list becomes {"rows": ..., ...})."""
    path = result_path(target)
    if with_machine:
        data = {"rows": data} if isinstance(data, list) else dict(data)
        data.setdefault("machine", machine())
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return path


def read_result(target: str | Path) -> Any:
    """A result file's JSON, or None where there is none yet."""
    path = result_path(target)
    return json.loads(path.read_text()) if path.exists() else None


def rows(data: Any) -> list[Any]:
    """The rows of a result: older files are a bare list, newer ones {"rows": [...], "machine": ...}."""
    return data if isinstance(data, list) else list(data["rows"])
