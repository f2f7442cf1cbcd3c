"""The Inside view in a real browser: one word's q/k/v, raw scores, attention weights and residual stream, checked
against raw transformers (the checkpoint's projection weights applied to its hidden states, its eager attention
merged by words in the test), the permalink, a bad word, and the layout in a narrow window."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch
from reference import simple_words
from test_explore import cells, no_console_errors, open_view, reference_attention
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder

TEXT = "We sat on the bank of the river."


def strips(table: Any) -> dict[str, np.ndarray]:
    """Row label -> the values of that heat strip (its cells' data-value)."""
    script = (
        "t => [...t.tBodies[0].rows].map(r => "
        "[r.cells[0].textContent, [...r.querySelectorAll('td')].map(c => Number(c.dataset.value))])"
    )
    return {name: np.array(values) for name, values in table.evaluate(script)}


def raw_inside(
    embedder: Embedder, tokenizer: PreTrainedTokenizerFast, text: str, word: str, layer: int, head: int
) -> dict[str, Any]:
    """From transformers alone: the word's tokens' q/k/v at (layer, head), its mean raw scores to each word group,
    and its stream (mean hidden state of its tokens) per layer."""
    enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
    model = embedder.backend.model
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
        proj = model.encoder.layer[layer].attention.self
        H = model.config.num_attention_heads
        hd = model.config.hidden_size // H
        h = out.hidden_states[layer][0]  # (T, D)
        q, k, v = (lin(h).view(-1, H, hd)[:, head].numpy() for lin in (proj.query, proj.key, proj.value))  # (T, hd)
    words = simple_words(text)
    span = next(s for s in words if text[s[0] : s[1]] == word)
    offsets, special = enc["offset_mapping"][0].tolist(), enc["special_tokens_mask"][0].tolist()
    mine = [t for t, (s, e) in enumerate(offsets) if not special[t] and s < span[1] and span[0] < e]
    groups = [[t] for t in range(len(offsets)) if special[t] and t == 0]
    groups += [[t for t, (s, e) in enumerate(offsets) if not special[t] and s < we and ws < e] for ws, we in words]
    groups += [[t] for t in range(len(offsets)) if special[t] and t > 0]
    raw = q[mine] @ k.T / np.sqrt(hd)  # (P, T)
    stream = np.stack([hs[0, mine].mean(0).numpy() for hs in out.hidden_states])  # (L+1, D)
    return {
        "pieces": [tokenizer.convert_ids_to_tokens(int(enc["input_ids"][0, t])) for t in mine],
        "q": q[mine],
        "k": k[mine],
        "v": v[mine],
        "scores": np.array([raw[:, g].mean() for g in groups]),
        "norm": np.linalg.norm(stream, axis=1),
        "row": 1 + words.index(span),
    }


def look_inside(view: Any, text: str, word: str) -> None:
    view.get_by_label("Sentence", exact=True).fill(text)
    view.get_by_label("Word", exact=True).fill(word)
    view.get_by_role("button", name="Look inside").click()


def test_inside_shows_a_words_qkv_scores_weights_and_stream(
    page: Any, explorer_url: str, bert_embedder: Embedder, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    view = open_view(page, explorer_url, "inside")
    look_inside(view, TEXT, "bank")
    view.get_by_role("table", name=re.compile("Attention weights from “bank”")).wait_for()
    view.get_by_label("Layer").select_option("1")
    view.get_by_label("Head").select_option("0")
    weights = view.get_by_role("table", name="Attention weights from “bank”, layer 1, head 0")
    want = raw_inside(bert_embedder, wordpiece_tokenizer, TEXT, "bank", 1, 0)
    # the weights row equals transformers' eager attention merged by words (the Attention view's rule)
    np.testing.assert_allclose(
        cells(weights)[0], reference_attention(bert_embedder, wordpiece_tokenizer, TEXT, 1, 0)[want["row"]], atol=2e-4
    )
    assert weights.locator("thead th").all_inner_texts()[:3] == ["[CLS]", "We", "sat"]
    scores = view.get_by_role("table", name="Raw scores q·k/√d from “bank”, layer 1, head 0")
    np.testing.assert_allclose(cells(scores)[0], want["scores"], atol=2e-4)
    got = strips(view.get_by_role("table", name="q, k, v of “bank”, layer 1, head 0"))
    for name in ("q", "k", "v"):
        for p, piece in enumerate(want["pieces"]):
            np.testing.assert_allclose(got[f"{name} · {piece}"], want[name][p], atol=2e-4)
    stream = view.get_by_role("table", name="“bank”: residual stream by layer")
    norms = stream.evaluate("t => [...t.tBodies[0].rows].map(r => Number(r.cells[1].dataset.value))")
    np.testing.assert_allclose(norms, want["norm"], rtol=1e-4)
    assert view.get_by_role("img", name="“bank”: norm of the residual stream").is_visible()
    assert view.get_by_role("img", name="“bank”: how the stream turns").is_visible()
    # the permalink restores sentence, word, layer and head
    assert all(f"{k}={v}" in page.url for k, v in (("word", "bank"), ("layer", "1"), ("head", "0")))
    page.goto(page.url)
    page.reload()
    view.get_by_role("table", name="Attention weights from “bank”, layer 1, head 0").wait_for()
    assert (
        view.get_by_label("Sentence", exact=True).input_value() == TEXT
        and view.get_by_label("Layer").input_value() == "1"
    )
    no_console_errors(page)


def test_clicking_a_word_looks_inside_it(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "inside", {"text": "the river and the bank", "word": "river"})
    view.get_by_role("table", name=re.compile("Attention weights from “river”")).wait_for()
    words = view.get_by_role("group", name=re.compile("Words of the sentence"))
    words.get_by_role("button", name="the").nth(1).click()
    view.get_by_role("table", name=re.compile("Attention weights from “the”")).wait_for()
    assert view.get_by_label("Occurrence").input_value() == "2" and "occurrence=2" in page.url
    assert words.get_by_role("button", name="the").nth(1).get_attribute("aria-pressed") == "true"
    no_console_errors(page)


def test_a_word_missing_from_the_sentence_shows_an_error(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "inside")
    look_inside(view, TEXT, "dragon")
    alert = view.get_by_role("alert")
    alert.wait_for()
    assert "Error: 'dragon' occurs 0 time(s) as a word" in alert.inner_text()
    assert view.locator(".results").inner_text() == ""  # no stale view under the message
    no_console_errors(page, allow_http_errors=True)


def test_inside_fits_a_narrow_window(browser: Any, explorer_url: str) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 800})
    page = context.new_page()
    page.goto(f"{explorer_url}/explore#view=inside&text=We+sat+on+the+bank&word=bank")
    page.get_by_role("table", name=re.compile("Attention weights from “bank”")).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 420  # strips and tables scroll inside their box
    context.close()
