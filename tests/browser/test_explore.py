"""The explorer in a real browser: each view loads, answers input, shows the numbers an independent computation
gives, restores its state from a permalink, exports a self-contained file, and shows bad input as a message.
No test may leave a console error (tests that send bad input on purpose allow exactly the HTTP error the
browser logs for that request)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reference import simple_words, word_vectors
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder

TEXTS = [
    "The bank approved my loan.",
    "We sat on the bank of the river.",
    "The river bank was muddy.",
]
DOCS = Path(__file__).parents[2] / "docs" / "img"
HTTP_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


def no_console_errors(page: Any, allow_http_errors: bool = False) -> None:
    errors = [e for e in page.console_errors if not (allow_http_errors and HTTP_4XX.search(e))]
    assert errors == []


def cells(table: Any) -> np.ndarray:
    """The values of a heat-map table (its cells' data-value), as a matrix."""
    script = "t => [...t.tBodies[0].rows].map(r => [...r.querySelectorAll('td')].map(c => Number(c.dataset.value)))"
    return np.array(table.evaluate(script), dtype=np.float64)


def open_view(page: Any, url: str, view: str, state: dict[str, str] | None = None) -> Any:
    """Open the page (at a permalink when `state` is given) on one view; returns the view's panel."""
    page.goto(f"{url}/explore" + ("#" + urllib.parse.urlencode({"view": view, **state}) if state else ""))
    page.wait_for_selector("body[data-restored=true]")
    if state is None:
        page.get_by_role("tab", name=view.capitalize()).click()
    return page.get_by_role("tabpanel", name=view.capitalize())


def reference_cosines(
    embedder: Embedder, tokenizer: PreTrainedTokenizerFast, texts: list[str], word: str, layer: int
) -> np.ndarray:
    vecs = []
    for t in texts:
        span = next((s, e) for s, e in simple_words(t) if t[s:e].lower() == word)
        vecs.append(word_vectors(tokenizer, embedder.backend.model, t, [span], [layer])[0])
    v = np.stack(vecs)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return v @ v.T


def test_compare_shows_each_layers_matrix_beside_the_static_one(
    page: Any, explorer_url: str, bert_embedder: Embedder, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    from explore_data import toy_static

    from contextvec.analysis.compare import compare_word

    view = open_view(page, explorer_url, "compare")
    view.get_by_label("Sentences (one per line)").fill("\n".join(TEXTS))
    view.get_by_label("Word", exact=True).fill("bank")
    view.get_by_role("button", name="Compare", exact=True).click()
    slider = view.get_by_label("Layer")
    slider.wait_for()
    top = bert_embedder.info.num_layers
    for layer in (top, 1):
        slider.fill(str(layer))
        table = page.get_by_role("table", name=f"tiny-bert, layer {layer}")
        got = cells(table)
        np.testing.assert_allclose(
            got, reference_cosines(bert_embedder, wordpiece_tokenizer, TEXTS, "bank", layer), atol=2e-5
        )
    static = cells(page.get_by_role("table", name="toy-static (static)"))
    np.testing.assert_allclose(static, compare_word(toy_static(), TEXTS, "bank").similarity, atol=1e-5)
    assert np.allclose(static, 1.0, atol=1e-5)  # a static model gives every use the same vector
    assert "layer=1" in page.url or "layer=1" in urllib.parse.unquote(page.url)
    # the word-by-word heat-map between sentences 1 and 2, at the slider's layer
    pair = page.get_by_role("table", name=re.compile("Word by word: sentence 1"))
    pair.wait_for()
    assert pair.locator("thead th").all_inner_texts() == ["We", "sat", "on", "the", "bank", "of", "the", "river", "."]
    no_console_errors(page)


def test_clicking_a_word_compares_it(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "compare")
    view.get_by_label("Sentences (one per line)").fill("\n".join(TEXTS))
    view.get_by_label("Word", exact=True).fill("bank")
    view.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_role("group", name=re.compile("Words of the first sentence")).get_by_role("button", name="The").click()
    page.get_by_role("heading", name="“The” in 3 sentences").wait_for()
    assert view.get_by_label("Word", exact=True).input_value() == "The"
    no_console_errors(page)


def test_a_compare_permalink_restores_the_view_and_the_layer(page: Any, explorer_url: str) -> None:
    state = {"texts": "\n".join(TEXTS), "word": "bank", "occurrence": "1", "layer": "2"}
    view = open_view(page, explorer_url, "compare", state)
    page.get_by_role("table", name="tiny-bert, layer 2").wait_for()
    assert page.get_by_role("tab", name="Compare").get_attribute("aria-selected") == "true"
    assert view.get_by_label("Layer").input_value() == "2"
    assert view.get_by_label("Sentences (one per line)").input_value() == "\n".join(TEXTS)
    no_console_errors(page)


def test_a_word_missing_from_a_sentence_shows_an_error_message(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "compare", {"texts": "\n".join(TEXTS), "word": "river"})
    alert = view.get_by_role("alert")
    alert.wait_for()
    assert re.search(r"Error: text 0 .*'river'.*does not occur", alert.inner_text()), alert.inner_text()
    no_console_errors(page, allow_http_errors=True)


BANK_CORPUS = [
    "I keep my savings in the bank.",
    "The bank raised its rates again.",
    "She went to the bank for money.",
    "We sat on the bank of the river.",
    "Fish swam near the bank of the river.",
    "The boat hit the far bank of the lake.",
]


def reference_units(embedder: Embedder, tokenizer: PreTrainedTokenizerFast, texts: list[str], word: str) -> np.ndarray:
    """Unit vectors of `word` in each text from raw transformers at the model's recipe layer (tiny-bert: the top)."""
    top = embedder.info.num_layers
    v = np.stack(
        [
            word_vectors(
                tokenizer,
                embedder.backend.model,
                t,
                [next((s, e) for s, e in simple_words(t) if t[s:e].lower() == word)],
                [top],
            )[0]
            for t in texts
        ]
    )
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def map_senses(view: Any, corpus: list[str], word: str = "bank") -> None:
    view.get_by_label("Word", exact=True).fill(word)
    view.get_by_label("Texts (one per line)").evaluate("(box, text) => { box.value = text; }", "\n".join(corpus))
    view.get_by_role("button", name="Map senses").click()


def test_senses_map_points_nearest_uses_and_labelling(
    page: Any, explorer_url: str, bert_embedder: Embedder, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    view = open_view(page, explorer_url, "senses")
    map_senses(view, BANK_CORPUS)
    view.get_by_text(f"{len(BANK_CORPUS)} uses of “bank”").wait_for()
    unit = reference_units(bert_embedder, wordpiece_tokenizer, BANK_CORPUS, "bank")
    sims = unit @ unit.T
    # choosing a point by keyboard (the point box) shows its sentence and its nearest uses, nearest first
    view.get_by_label("Point", exact=True).fill("3")
    view.get_by_label("Point", exact=True).press("Enter")
    view.get_by_role("heading", name=re.compile(r"Point #3")).wait_for()
    shown = [int(re.match(r"#(\d+)", t).group(1)) for t in view.locator("ol.nearest li").all_inner_texts()]
    expected = [j for j in np.argsort(-sims[3]).tolist() if j != 3][: len(shown)]
    assert shown == expected and len(shown) == 5
    assert view.locator(".picked mark").first.inner_text() == "bank"
    # hovering a point shows its sentence with the word highlighted
    canvas = view.get_by_role("img", name=re.compile("Uses of the word"))
    box = canvas.bounding_box()
    hit = page.evaluate("() => { const m = window.__exploreMap; return [m.px[0], m.py[0], m.canvas.width]; }")
    scale = box["width"] / hit[2]
    page.mouse.move(box["x"] + hit[0] * scale, box["y"] + hit[1] * scale)
    tip = view.locator(".tooltip")
    tip.wait_for()
    assert BANK_CORPUS[0].replace(".", "") in tip.inner_text() and tip.locator("mark").inner_text() == "bank"
    # label two points, predict the rest: nearest centroid of the labelled vectors
    for point, name in ((0, "money"), (3, "river")):
        view.get_by_label("Point", exact=True).fill(str(point))
        view.get_by_label("Sense name").fill(name)
        view.get_by_role("button", name="Label point").click()
    view.get_by_role("button", name="Predict the rest").click()
    view.get_by_text("Predicted:", exact=True).wait_for()
    centroids = np.stack([unit[0], unit[3]])
    predicted = np.array(["money", "river"])[np.argmax(unit @ centroids.T, axis=1)]
    legend = view.locator(".legend").inner_text()
    for name in ("money", "river"):
        assert f"{name} ({int((predicted == name).sum())})" in legend
    no_console_errors(page)


def test_senses_permalink_restores_the_map(page: Any, explorer_url: str) -> None:
    view = open_view(
        page, explorer_url, "senses", {"word": "bank", "source": "corpus", "k": "2", "corpus": "\n".join(BANK_CORPUS)}
    )
    view.get_by_text(f"{len(BANK_CORPUS)} uses of “bank”").wait_for()
    assert view.locator(".legend").inner_text().startswith("2 sense(s)")
    no_console_errors(page)


def test_senses_from_the_index(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "senses")
    view.get_by_label("Uses from").select_option("index")
    view.get_by_role("button", name="Map senses").click()
    view.get_by_text("4 uses of “bank”").wait_for()  # the index holds 4 documents, each using "bank" once
    no_console_errors(page)


def test_long_work_shows_progress_and_can_be_cancelled(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "senses")
    map_senses(view, BANK_CORPUS * 3000)
    view.get_by_role("progressbar").wait_for()
    view.get_by_role("button", name="Cancel").click()
    view.get_by_text("Cancelled.").wait_for()
    assert view.locator(".legend").inner_text() == ""  # no map was drawn
    no_console_errors(page)


def test_a_word_absent_from_the_corpus_shows_an_error(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "senses")
    map_senses(view, BANK_CORPUS, word="dragon")
    alert = view.get_by_role("alert")
    alert.wait_for()
    assert "Error: none of ['dragon'] occurs in the corpus" in alert.inner_text()
    no_console_errors(page)


def test_layers_view_draws_the_curves_with_the_measured_numbers(
    page: Any, explorer_url: str, bert_embedder: Embedder, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    view = open_view(page, explorer_url, "layers")
    corpus = [t for t in view.get_by_label(re.compile("Corpus")).input_value().split("\n") if t.strip()]
    view.get_by_role("button", name="Measure layers").click()
    table = view.get_by_role("table", name=re.compile("tiny-bert: "))
    table.wait_for()
    assert view.get_by_role("img", name="tiny-bert: contextuality by layer").is_visible()
    got = table.evaluate("t => [...t.tBodies[0].rows].map(r => Number(r.cells[2].dataset.value))")  # intra-sentence
    # independent: mean over texts of the mean cosine between each word vector and the text's mean word vector
    expected = []
    for layer in range(bert_embedder.info.num_layers + 1):
        per_text = []
        for t in corpus:
            v = word_vectors(wordpiece_tokenizer, bert_embedder.backend.model, t, simple_words(t), [layer])
            mean = v.mean(axis=0)
            u = v / np.linalg.norm(v, axis=1, keepdims=True)
            per_text.append(float((u @ (mean / np.linalg.norm(mean))).mean()))
        expected.append(np.mean(per_text))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    no_console_errors(page)


def reference_attention(
    embedder: Embedder, tokenizer: PreTrainedTokenizerFast, text: str, layer: int, head: int
) -> np.ndarray:
    """Raw transformers attention merged into words: columns summed and rows averaged within a word; [CLS] and
    [SEP] keep their own rows and columns."""
    import torch

    enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
    model = embedder.backend.model
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")  # SDPA returns no weights (the page's request has finished by now)
    try:
        with torch.no_grad():
            out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_attentions=True)
    finally:
        model.set_attn_implementation(before)
    a = out.attentions[layer][0, head].numpy()  # (T, T)
    words = simple_words(text)
    group = []
    for t, ((s, e), special) in enumerate(
        zip(enc["offset_mapping"][0].tolist(), enc["special_tokens_mask"][0].tolist(), strict=True)
    ):
        group.append(("special", t) if special else next(i for i, (ws, we) in enumerate(words) if s < we and ws < e))
    order = list(dict.fromkeys(group))
    onehot = np.array([[g == o for o in order] for g in group], dtype=np.float64)  # (T, n)
    return (onehot.T @ a @ onehot) / onehot.sum(axis=0)[:, None]


def test_attention_by_word_for_a_layer_and_head(
    page: Any, explorer_url: str, bert_embedder: Embedder, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    text = "We sat on the bank of the river."
    view = open_view(page, explorer_url, "attention")
    view.get_by_label("Sentence").fill(text)
    view.get_by_role("button", name="Show attention").click()
    view.get_by_label("Layer").select_option("1")
    view.get_by_label("Head").select_option("0")
    table = view.get_by_role("table", name=re.compile("layer 1, head 0"))
    table.wait_for()
    assert table.locator("thead th").all_inner_texts()[:3] == ["[CLS]", "We", "sat"]
    np.testing.assert_allclose(
        cells(table), reference_attention(bert_embedder, wordpiece_tokenizer, text, 1, 0), atol=2e-4
    )
    assert "layer=1" in page.url and "head=0" in page.url
    # the permalink restores layer and head
    page.goto(page.url)
    page.reload()
    view.get_by_role("table", name=re.compile("layer 1, head 0")).wait_for()
    no_console_errors(page)


def test_attention_refuses_a_text_longer_than_one_window(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "attention")
    view.get_by_label("Sentence").fill("the river " * 60)
    view.get_by_role("button", name="Show attention").click()
    alert = view.get_by_role("alert")
    alert.wait_for()
    assert "more than one" in alert.inner_text() and "window" in alert.inner_text()
    no_console_errors(page, allow_http_errors=True)


def test_search_by_example_highlights_the_hits(page: Any, explorer_url: str) -> None:
    from explore_data import INDEX_DOCS

    view = open_view(page, explorer_url, "search")
    view.get_by_label("Example sentence").fill(INDEX_DOCS[0])
    view.get_by_label("Word", exact=True).fill("bank")
    view.get_by_role("button", name="Search").click()
    hits = view.locator("ol.hits li")
    hits.first.wait_for()
    assert hits.count() == 4  # every document uses "bank" once
    first = hits.first.inner_text()
    assert first.startswith("1.000") and INDEX_DOCS[0] in first  # the example's own use comes first
    assert view.locator("ol.hits mark").all_inner_texts() == ["bank"] * 4
    scores = [float(t) for t in view.locator("ol.hits .score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    no_console_errors(page)


def test_export_writes_a_self_contained_html_file(page: Any, explorer_url: str, tmp_path: Path) -> None:
    view = open_view(page, explorer_url, "compare", {"texts": "\n".join(TEXTS), "word": "bank", "layer": "2"})
    table = page.get_by_role("table", name="tiny-bert, layer 2")
    table.wait_for()
    numbers = table.locator("td").all_inner_texts()
    with page.expect_download() as info:
        view.get_by_role("button", name="Export HTML").click()
    path = tmp_path / "compare.html"
    info.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"""(src|href)=["']?https?:""", html)
    # the file shows the same matrix on its own (opened with no server)
    page.set_content(html)
    exported = page.get_by_role("table", name="tiny-bert, layer 2")
    assert exported.locator("td").all_inner_texts() == numbers
    no_console_errors(page)


def test_senses_export_holds_the_map_as_an_image(page: Any, explorer_url: str, tmp_path: Path) -> None:
    view = open_view(page, explorer_url, "senses", {"word": "bank", "corpus": "\n".join(BANK_CORPUS)})
    view.get_by_text(f"{len(BANK_CORPUS)} uses of “bank”").wait_for()
    with page.expect_download() as info:
        view.get_by_role("button", name="Export HTML").click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in html and "<canvas" not in html and "<script" not in html
    no_console_errors(page)


def test_keyboard_moves_between_tabs_and_submits_forms(page: Any, explorer_url: str) -> None:
    open_view(page, explorer_url, "compare")
    page.get_by_role("tab", name="Compare").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Senses").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.textContent") == "Senses"
    page.keyboard.press("End")
    assert page.get_by_role("tab", name="Search").get_attribute("aria-selected") == "true"
    page.keyboard.press("Home")
    view = page.get_by_role("tabpanel", name="Compare")
    view.get_by_label("Word", exact=True).fill("bank")
    view.get_by_label("Word", exact=True).press("Enter")
    page.get_by_role("table", name=re.compile("tiny-bert, layer")).wait_for()
    no_console_errors(page)


@pytest.mark.parametrize("width", [1280, 420])
def test_every_view_fits_the_window(browser: Any, explorer_url: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(
        f"{explorer_url}/explore#"
        + urllib.parse.urlencode({"view": "compare", "texts": "\n".join(TEXTS), "word": "bank"})
    )
    page.get_by_role("table", name=re.compile("tiny-bert, layer")).wait_for()
    for tab in ("Compare", "Senses", "Layers", "Attention", "Inside", "Search"):
        page.get_by_role("tab", name=tab).click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, tab  # no sideways scrolling
    context.close()


def test_layers_with_too_small_a_corpus_shows_an_error(page: Any, explorer_url: str) -> None:
    view = open_view(page, explorer_url, "layers")
    view.get_by_label(re.compile("Corpus")).fill("one two\nthree four")
    view.get_by_role("button", name="Measure layers").click()
    alert = view.get_by_role("alert")
    alert.wait_for()
    assert "Error: no word occurs in 2+ of the 2 texts" in alert.inner_text()
    no_console_errors(page)
