"""Every picture and table of docs/senses.md, from one command.

    python benchmarks/analysis_pictures.py                 # about 15 minutes on 2 CPU cores
    python benchmarks/analysis_pictures.py --render-only   # re-render docs/senses.md from the saved JSON

- contextuality per layer (Ethayarajh 2019) for minilm, mpnet and smollm2 on the same Brown sample;
- sense induction and labelling scored against WordNet sense labels (ARI, leave-one-out accuracy), with the
  static GloVe baseline;
- a sense map of a word in Brown, the "it" attention example, and a word-by-word similarity heat-map.
Results: benchmarks/results/analysis.json; pictures: docs/img/.
"""

from __future__ import annotations

import argparse
import itertools
import json
from typing import Any

import numpy as np
from harness import ROOT, result_path, write_result

from contextvec import Embedder
from contextvec.analysis.attention import attention_by_word
from contextvec.analysis.compare import word_similarity
from contextvec.analysis.contextuality import ContextualityReport, LayerContextuality, measure_contextuality
from contextvec.analysis.occurrences import collect_occurrences
from contextvec.analysis.senses import induce_senses
from contextvec.data import brown
from contextvec.eval.senses import score_senses, sense_sets, summarize
from contextvec.static.embedder import StaticEmbedder
from contextvec.viz.plots import attention_maps, layer_curves, sense_map, similarity_map

IMG = ROOT / "docs" / "img"
RESULTS = result_path("analysis.json")
MODELS = ("minilm", "mpnet", "smollm2")
CLASSIC = ("bank.n", "line.n", "post.n", "interest.n", "right.n", "run.v", "play.v", "run.n", "play.n", "spring.n")
IT = (
    "The chicken didn't cross the road because it was too tired.",
    "The chicken didn't cross the road because it was too wide.",
)


def compute(max_texts: int) -> dict[str, Any]:
    out: dict[str, Any] = {"contextuality": {}, "senses": {}, "classic": {}}
    sample = list(itertools.islice(brown.sentences(), 0, None, 23))[:max_texts]  # spread over all genres
    sets = sense_sets()
    classic = {w: sets[w] for w in CLASSIC if w in sets}
    for name in MODELS:
        emb = Embedder(name)
        report = measure_contextuality(emb, sample, max_texts=max_texts)
        out["contextuality"][name] = report.to_dict()
        scores = score_senses(emb, sets)
        out["senses"][name] = summarize(scores)
        out["classic"][name] = {
            s.word: {"n": s.n, "senses": s.senses, "ari": s.ari, "loo": s.loo} for s in scores if s.word in classic
        }
        print(name, json.dumps(out["senses"][name]), flush=True)
    glove = StaticEmbedder.load("glove-50d")
    out["senses"]["glove-50d"] = summarize(score_senses(glove, sets))
    out["sample"] = {"texts": len(sample), "source": "Brown, every 23rd sentence"}
    return out


def pictures(data: dict[str, Any]) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    reports = []
    for name, d in data["contextuality"].items():
        layers = [
            LayerContextuality(r["layer"], r["self_similarity"], r["intra_sentence"], r["mev"], r["anisotropy"])
            for r in d["layers"]
        ]
        reports.append(
            ContextualityReport(
                name, layers, d["n_texts"], d["n_words"], d["per_word"], [r["mev_baseline"] for r in d["layers"]]
            )
        )
    layer_curves(reports, IMG / "contextuality.png")
    layer_curves(reports, IMG / "contextuality_adjusted.png", adjusted=True)
    layer_curves(reports, IMG / "contextuality.html")
    minilm = Embedder("minilm")
    attention_maps([attention_by_word(minilm, t) for t in IT], IMG / "attention_it.png", layers=[0, 3, 5])
    attention_maps([attention_by_word(minilm, t) for t in IT], IMG / "attention_it.html", layers=[0, 3, 5])
    smol = Embedder("smollm2")
    attention_maps([attention_by_word(smol, IT[0])], IMG / "attention_it_smollm2.png", layers=[2, 15, 29])
    rows, cols, matrix, described = word_similarity(
        minilm, "I deposited the check at the bank.", "We sat on the bank of the river."
    )
    similarity_map(matrix, rows, cols, IMG / "similarity_bank.png", f"minilm, {described}")
    occ = collect_occurrences(minilm, brown.sentences(), ["interest"], max_per_word=300)
    induction = induce_senses(occ)
    sense_map(induction, IMG / "senses_interest.png")
    sense_map(induction, IMG / "senses_interest.html")
    data["sense_map"] = {
        "word": "interest",
        "occurrences": len(occ),
        "k": induction.k,
        "silhouette": induction.silhouette,
        "clusters": [
            {"size": c.size, "keywords": c.keywords[:6], "example": c.examples[0]} for c in induction.clusters
        ],
    }


def render(data: dict[str, Any]) -> str:
    lines = [
        "| model | layer | self-similarity | intra-sentence | MEV | anisotropy | self-sim − anisotropy |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, d in data["contextuality"].items():
        for r in d["layers"]:
            lines.append(
                f"| {name} | {r['layer']} | {r['self_similarity']:.3f} | {r['intra_sentence']:.3f} | {r['mev']:.3f} | "
                f"{r['anisotropy']:.3f} | {r['adjusted_self_similarity']:.3f} |"
            )
    ctx = "\n".join(lines)
    s = data["senses"]
    lines = [
        "| model | words | occurrences | best ARI (layer) | best leave-one-out acc. (layer) | chance acc. |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in s.items():
        ari, loo = np.asarray(r["ari"]), np.asarray(r["loo_accuracy"])
        lines.append(
            f"| {name} | {r['words']} | {r['occurrences']} | {ari.max():.3f} (L{int(ari.argmax())}) | "
            f"{loo.max():.3f} (L{int(loo.argmax())}) | {r['chance']:.3f} |"
        )
    senses = "\n".join(lines)
    lines = [
        "| word | examples | senses | " + " | ".join(f"{m} ARI (best layer)" for m in data["classic"]) + " |",
        "|---|---|---|" + "---|" * len(data["classic"]),
    ]
    words = sorted({w for m in data["classic"].values() for w in m})
    first = next(iter(data["classic"].values()))
    for w in words:
        cells = []
        for m in data["classic"].values():
            ari = np.asarray(m[w]["ari"])
            cells.append(f"{ari.max():.2f} (L{int(ari.argmax())})")
        lines.append(f"| {w} | {first[w]['n']} | {first[w]['senses']} | " + " | ".join(cells) + " |")
    classic = "\n".join(lines)
    sm = data["sense_map"]
    lines = [
        f"`interest` in Brown: {sm['occurrences']} occurrences, k = {sm['k']} by silhouette "
        f"({', '.join(f'k={k}: {v:.3f}' for k, v in sm['silhouette'].items())}).",
        "",
        "| sense | size | characteristic words | most typical sentence |",
        "|---|---|---|---|",
    ]
    for i, c in enumerate(sm["clusters"]):
        lines.append(f"| {i} | {c['size']} | {', '.join(c['keywords'])} | {c['example'][:110]} |")
    smap = "\n".join(lines)
    template = (ROOT / "docs" / "senses.template.md").read_text()
    return (
        template.replace("{{CONTEXTUALITY}}", ctx)
        .replace("{{SENSES}}", senses)
        .replace("{{CLASSIC}}", classic)
        .replace("{{SENSE_MAP}}", smap)
        .replace("{{SAMPLE}}", f"{data['sample']['texts']} sentences ({data['sample']['source']})")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--pictures-only", action="store_true", help="redraw the pictures from the saved numbers")
    ap.add_argument("--max-texts", type=int, default=800)
    args = ap.parse_args()
    if args.render_only or args.pictures_only:
        data = json.loads(RESULTS.read_text())
        if args.pictures_only:
            pictures(data)
            write_result(RESULTS, data)
    else:
        data = compute(args.max_texts)
        pictures(data)
        write_result(RESULTS, data)
    (ROOT / "docs" / "senses.md").write_text(render(data))
    print("wrote docs/senses.md, docs/img/*.png|html and", RESULTS)


if __name__ == "__main__":
    main()
