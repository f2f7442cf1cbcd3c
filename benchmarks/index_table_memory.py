"""Where the LanceDB side of an index build spends memory: the table build (shard by shard) and the vector index,
alone, in a fresh process, on the first K Parquet shards of an existing index (so no model is loaded and nothing
is embedded). A thread samples /proc/self/status every 20 ms: RssAnon (allocations) and RssFile (file-backed
pages: mapped libraries and files, page cache rather than allocations) separately, tagged with the phase.

    nice python benchmarks/index_table_memory.py --source /tmp/contextvec-bench-index/idx --shards 1 4 16
    nice python benchmarks/index_table_memory.py --source DIR --shards 4 --recipe PQ_BITS=8,TRAIN_VECTORS=65536

Each size runs in its own fresh process (--child); results go to benchmarks/results/index-OUT.json. The committed
index-table_memory.json gathers the runs of five recipes (--recipe knobs, LANCEDB_LOG=info for the phases); its
"lancedb-default" runs were made with index/table.py as it was before the memory work (git history).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import Sampler, heavy_lock, result_path, write_result, write_text


def child(source: Path, shards: int, recipe: str) -> dict[str, Any]:
    import contextvec.index.table as table
    from contextvec.index.manifest import Manifest

    sampler = Sampler()
    sampler.start()
    manifest = Manifest.load(source)
    manifest.shards = manifest.shards[:shards]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "shards").symlink_to(source / "shards")
        times: dict[str, float] = {}
        real_index = table._vector_index
        real_create = table.connect

        def connect(f: Path) -> Any:
            sampler.enter("table")
            times["table_start"] = time.perf_counter()
            return real_create(f)

        def vector_index(*a: Any, **k: Any) -> str:
            sampler.enter("vector_index")
            t0 = time.perf_counter()
            times["table_s"] = t0 - times["table_start"]
            out = real_index(*a, **k)
            times["vector_index_s"] = time.perf_counter() - t0
            sampler.enter("scalar_index")
            return out

        table.connect = connect
        table._vector_index = vector_index
        for knob in recipe.split(",") if recipe != "contextvec" else []:  # e.g. TRAIN_VECTORS=999999999,PQ_BITS=4
            name, _, value = knob.partition("=")
            setattr(table, name, int(value))
        info = table.build_tables(folder, manifest)
        sampler.enter("end")
        sampler.stop()
    timeline = sampler.timeline[:: max(1, len(sampler.timeline) // 400)]  # about 400 points
    return {
        "shards": shards,
        "rows": manifest.rows,
        "recipe": recipe,
        "info": info,
        **times,
        "peaks": sampler.peaks,
        "timeline": timeline,
    }


def plot(path: Path) -> None:
    """RssAnon over the LanceDB side of the build: LanceDB's default recipe vs the shipped one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(result_path("index-table_memory.json").read_text())["recipes"]
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, color in (("lancedb-default", "tab:red"), ("cap-32k-4bit-shuffle-8MiB", "tab:blue")):
        for run, style in zip(data[name]["runs"][-2:], (":", "-"), strict=True):
            t = [p[0] for p in run["timeline"]]
            ax.plot(t, [p[2] for p in run["timeline"]], style, color=color, label=f"{name}, {run['rows']:,} rows")
    ax.set_xlabel("seconds (table build, then the vector index)")
    ax.set_ylabel("RssAnon (MiB)")
    ax.set_title("LanceDB side of an index build, alone (benchmarks/index_table_memory.py)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parent_run(args: argparse.Namespace, k: int) -> dict[str, Any]:
    """One size in a fresh process; its LanceDB log goes beside the results."""
    cmd = [sys.executable, __file__, "--child", "--source", str(args.source), "--shards", str(k)]
    run = subprocess.run([*cmd, "--recipe", args.recipe], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(run.stderr[-3000:])
    noise = ("Sample training data: batch", "KMeans training: iteration")  # LANCEDB_LOG=info's per-step lines
    log = [x for x in run.stderr.splitlines() if not any(n in x for n in noise)]
    write_text(result_path(f"index-{args.out}-{k}.log"), "\n".join(log) + "\n")
    result = json.loads(next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))[7:])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, help="an index folder whose shards are reused")
    ap.add_argument("--shards", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--recipe", default="contextvec")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--plot", type=Path, help="only draw the committed results into this PNG")
    ap.add_argument("--out", default="table_memory_run", help="writes benchmarks/results/index-OUT.json")
    args = ap.parse_args()
    if args.plot:
        plot(args.plot)
        return
    if args.child:
        print("RESULT " + json.dumps(child(args.source, args.shards[0], args.recipe)), flush=True)
        return
    with heavy_lock():
        runs = [parent_run(args, k) for k in args.shards]
    write_result(f"index-{args.out}.json", {"source": str(args.source), "runs": runs})


if __name__ == "__main__":
    main()
