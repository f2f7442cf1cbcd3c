"""The fused encoder on the real offline models: used for minilm and mpnet, and every layer of a padded batch of
real texts matches transformers' own forward (the tiny-model tests check the same on random weights)."""

from __future__ import annotations

import pytest
import torch
from test_real_models import TRICKY

from contextvec import Embedder

ATOL = 1e-4  # float32, 768-d, 12 layers: measured max difference about 2e-6 (mpnet) and 0 (minilm)


@pytest.mark.parametrize("name", ["minilm", "mpnet"])
def test_fused_forward_is_used_and_matches_transformers_on_every_layer(
    name: str, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(name)
    backend = embedder.backend
    assert backend.fast is not None, f"{name} fell back to the transformers forward"  # type: ignore[attr-defined]
    hf_tok = backend.hf_tokenizer  # type: ignore[attr-defined]
    texts = [" ".join(TRICKY) * 2, *TRICKY]  # one row past 128 tokens (MPNet's far position buckets), the rest short
    enc = hf_tok(texts, padding=True, return_tensors="pt")
    assert enc["attention_mask"].sum(1).max() > 130
    with torch.inference_mode():
        want = backend.model(  # type: ignore[attr-defined]
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True
        ).hidden_states
        got = backend.forward(enc["input_ids"], enc["attention_mask"])
    keep = enc["attention_mask"].bool()
    assert len(got) == len(want) == embedder.info.num_layers + 1
    for layer, (w, g) in enumerate(zip(want, got, strict=True)):
        torch.testing.assert_close(g[keep], w[keep], atol=ATOL, rtol=0, msg=lambda m, i=layer: f"layer {i}: {m}")
