"""The numbers and pictures of docs/inside.md: "bank" and "it" walked through minilm and smollm2 with the
reference transformer's trace (contextvec.transformer).

    python benchmarks/inside.py     # writes benchmarks/results/inside.json and docs/img/inside-*.png
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from harness import ROOT, write_result

from contextvec import Embedder
from contextvec.transformer import Transformer, TransformerOutput

IMG = ROOT / "docs" / "img"
BANK = "We sat on the bank of the river."
MONEY = "The bank approved my loan."
IT = {k: f"The chicken didn't cross the road because it was too {k}." for k in ("tired", "wide")}


def run(emb: Embedder, ref: Transformer, text: str) -> tuple[list[str], list[tuple[int, int]], TransformerOutput]:
    """Tokens (pieces, char spans) of one window as the Embedder builds it, and the traced forward pass."""
    b = emb.backend
    enc = b.tokenize([text])[0]
    ids = [*b.prefix_ids, *enc.ids.tolist(), *b.suffix_ids]
    spans = [(-1, -1)] * len(b.prefix_ids) + [tuple(o) for o in enc.offsets.tolist()] + [(-1, -1)] * len(b.suffix_ids)
    with torch.no_grad():
        out = ref(torch.tensor([ids]), trace=True)
    return [b.piece(i) for i in ids], spans, out  # type: ignore[return-value]


def pos(spans: list[tuple[int, int]], text: str, word: str, nth: int = 0) -> int:
    """The first token of the nth occurrence of `word`."""
    start = [i for i in range(len(text)) if text.startswith(word, i)][nth]
    return next(t for t, (s, e) in enumerate(spans) if s <= start < e)


def cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=-1))


def rounded(x: torch.Tensor, n: int = 6) -> list[float]:
    return [round(float(v), 3) for v in x[:n]]


def bank_walk(name: str, emb: Embedder, ref: Transformer) -> dict[str, Any]:
    pieces, spans, out = run(emb, ref, BANK)
    _, mspans, mout = run(emb, ref, MONEY)
    assert out.trace is not None
    t_bank, t_river, t_sat = pos(spans, BANK, "bank"), pos(spans, BANK, "river"), pos(spans, BANK, "sat")
    m_bank = pos(mspans, MONEY, "bank")
    # the head that looks hardest from "bank" to its best clue: "river" if it may see it (encoder), else "sat"
    clue = t_river if not ref.config.causal else t_sat
    w = torch.stack([t.weights[0, :, t_bank, clue] for t in out.trace])  # (L, H)
    layer, head = divmod(int(w.argmax()), w.shape[1])
    tr = out.trace[layer]
    q = tr.q[0, head, t_bank]  # (hd,)
    rows = [
        {
            "token": pieces[t],
            "k": rounded(tr.k[0, head, t]),
            "v": rounded(tr.v[0, head, t]),
            "score": round(float(tr.scores[0, head, t_bank, t]), 3),
            "weight": round(float(tr.weights[0, head, t_bank, t]), 4),
        }
        for t in range(len(pieces))
    ]
    hs = out.hidden_states
    drift = [cos(hs[layer_][0, t_bank], hs[0][0, t_bank]) for layer_ in range(len(hs))]
    senses = [cos(hs[layer_][0, t_bank], mout.hidden_states[layer_][0, m_bank]) for layer_ in range(len(hs))]
    mean_heads = torch.stack([t.weights[0, :, t_bank].mean(0) for t in out.trace])  # (L, T)
    top = [[pieces[int(i)] for i in row.argsort(descending=True)[:3]] for row in mean_heads]
    masked = None
    if ref.config.causal:  # what the mask removes: the raw scores of "bank" with the words after it
        masked = {pieces[t]: round(float(tr.scores[0, head, t_bank, t]), 3) for t in range(t_bank + 1, len(pieces))}
    _heatmap(name, pieces, tr.weights[0, head].numpy(), layer, head)
    return {
        "tokens": pieces,
        "layer": layer + 1,
        "head": head,
        "q_bank": rounded(q),
        "head_dim": int(q.shape[0]),
        "rows": rows,
        "attention_output_bank": rounded(tr.attn_out[0, t_bank]),
        "cos_to_layer0": [round(c, 4) for c in drift],
        "norm_by_layer": [round(float(h[0, t_bank].norm()), 2) for h in hs],
        "largest_dim_by_layer": [round(float(h[0, t_bank].abs().max()), 2) for h in hs],
        "cos_river_vs_money": [round(c, 4) for c in senses],
        "top3_attended_by_layer": top,
        "masked_scores": masked,
    }


def it_walk(emb: Embedder, ref: Transformer) -> dict[str, Any]:
    res: dict[str, Any] = {}
    vecs = {}
    for k, text in IT.items():
        _, spans, out = run(emb, ref, text)
        assert out.trace is not None
        t_it, t_ch, t_rd = pos(spans, text, "it"), pos(spans, text, "chicken"), pos(spans, text, "road")
        # the most decided head per layer: the largest |chicken - road| weight from "it"
        per_layer = []
        for t in out.trace:
            ch, rd = t.weights[0, :, t_it, t_ch], t.weights[0, :, t_it, t_rd]  # (H,)
            h = int((ch - rd).abs().argmax())
            per_layer.append(
                {"head": h, "chicken": round(float(ch[h]), 3), "road": round(float(rd[h]), 3),
                 "mean_chicken": round(float(ch.mean()), 3), "mean_road": round(float(rd.mean()), 3)}
            )  # fmt: skip
        res[k] = per_layer
        vecs[k] = torch.stack([h[0, t_it] for h in out.hidden_states])  # (L+1, D)
    res["cos_it_tired_vs_wide"] = [round(cos(a, b), 6) for a, b in zip(vecs["tired"], vecs["wide"], strict=True)]
    return res


def _heatmap(name: str, pieces: list[str], w: np.ndarray, layer: int, head: int) -> None:
    import matplotlib.pyplot as plt

    labels = [p.replace("Ġ", "") for p in pieces]
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(w, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("from (query)")
    ax.set_title(f"{name}: layer {layer + 1}, head {head}")
    fig.tight_layout()
    fig.savefig(IMG / f"inside-bank-head-{name}.png", dpi=110)
    plt.close(fig)


def _curves(report: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, r in report.items():
        b = r["bank"]
        x = np.linspace(0, 1, len(b["cos_to_layer0"]))
        axes[0].plot(x, b["cos_to_layer0"], marker=".", label=f"{name}: bank vs its layer 0")
        axes[0].plot(x, b["cos_river_vs_money"], ls="--", label=f"{name}: river bank vs money bank")
        axes[1].plot(x, r["it"]["cos_it_tired_vs_wide"], marker=".", label=f"{name}: 'it' (tired) vs 'it' (wide)")
    axes[0].set_xlabel("depth (layer / L)")
    axes[0].set_ylabel("cosine")
    axes[0].legend(fontsize=7)
    axes[0].set_title('"bank" leaves its static embedding')
    axes[1].set_xlabel("depth (layer / L)")
    axes[1].legend(fontsize=7)
    axes[1].set_title('"it": does the last word change it?')
    fig.tight_layout()
    fig.savefig(IMG / "inside-layers.png", dpi=110)
    plt.close(fig)


def main() -> None:
    report: dict[str, Any] = {}
    for name in ("minilm", "smollm2"):
        emb = Embedder(name, device="cpu")
        ref = Transformer.from_pretrained(name)
        report[name] = {"bank": bank_walk(name, emb, ref), "it": it_walk(emb, ref)}
    _curves(report)
    write_result("inside.json", report)
    print(json.dumps(report, ensure_ascii=False)[:3000])


if __name__ == "__main__":
    main()
