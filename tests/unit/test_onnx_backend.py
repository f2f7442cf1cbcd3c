"""The ONNX Runtime backend on the tiny random BERT: hidden states against transformers' own forward, int8 close,
the same words/spans/sentences as torch, the cache built once and atomically, and every bad choice a clear error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import CORPUS, tiny_bert, tiny_llama
from transformers import PreTrainedTokenizerFast

from contextvec import Embedder
from contextvec.errors import MissingExtraError, ModelLoadError, OptionError
from contextvec.models.backend import TorchBackend
from contextvec.models.contract import Backend

pytest.importorskip("onnxruntime")
from contextvec.models import onnx_export
from contextvec.models.onnx_backend import OnnxBackend
from contextvec.models.select import load_backend

LONG = " ".join(CORPUS[:5]) * 3  # > 64 positions: several windows


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONTEXTVEC_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def torch_backend(wordpiece_tokenizer: PreTrainedTokenizerFast) -> TorchBackend:
    return TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert", device="cpu")


@pytest.fixture(scope="module")
def onnx32(cache: Path, wordpiece_tokenizer: PreTrainedTokenizerFast) -> OnnxBackend:
    return OnnxBackend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert"), "float32")


@pytest.fixture(scope="module")
def onnx8(cache: Path, onnx32: OnnxBackend, wordpiece_tokenizer: PreTrainedTokenizerFast) -> OnnxBackend:
    return OnnxBackend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert"), "int8")


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 60, (3, 23), generator=gen)  # (B, T): another shape than the export's example
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0
    mask[2, 4:] = 0
    return ids, mask


def _reference(wordpiece_tokenizer: PreTrainedTokenizerFast) -> tuple[torch.Tensor, list[np.ndarray]]:
    """transformers' eager forward of a fresh copy of the same weights: the independent computation."""
    model = tiny_bert(wordpiece_tokenizer)
    model.set_attn_implementation("eager")
    ids, mask = _batch()
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    return mask.bool(), [h.numpy() for h in out.hidden_states]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)))


def test_both_backends_satisfy_the_contract(torch_backend: TorchBackend, onnx32: OnnxBackend) -> None:
    assert isinstance(torch_backend, Backend) and isinstance(onnx32, Backend)
    assert (onnx32.name, onnx32.precision, torch_backend.name) == ("onnx", "float32", "torch")


def test_float32_hidden_states_match_transformers(
    onnx32: OnnxBackend, wordpiece_tokenizer: PreTrainedTokenizerFast
) -> None:
    real, ref = _reference(wordpiece_tokenizer)
    ids, mask = _batch()
    states = onnx32.forward(ids, mask)
    assert len(states) == len(ref) == 4  # embedding output + 3 blocks
    for got, want in zip(states, ref, strict=True):
        assert got.shape == want.shape == (3, 23, 32)
        g, w = got.numpy()[real.numpy()], want[real.numpy()]  # real tokens only; padding rows are unspecified
        assert np.abs(g - w).max() < 1e-4
        assert _cosines(g, w).min() > 0.99999


def test_causal_decoder_exports_with_its_mask(cache: Path, bpe_tokenizer: PreTrainedTokenizerFast) -> None:
    """A Llama-shaped (rotary, causal) decoder exports at its own opset and keeps the causal mask."""
    ids, mask = _batch()
    ids = ids % 50 + 5
    onnx = OnnxBackend(TorchBackend(tiny_llama(bpe_tokenizer), bpe_tokenizer, "tiny-llama"), "float32")
    model = tiny_llama(bpe_tokenizer)
    model.set_attn_implementation("eager")
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False).hidden_states
    got = onnx.forward(ids, mask)
    assert onnx.folder.name.endswith(f"-opset{onnx_export.ROTARY_OPSET}-float32")
    real = mask.bool().numpy()
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert np.abs(g.numpy()[real] - w.numpy()[real]).max() < 1e-4


def test_int8_hidden_states_are_close(onnx8: OnnxBackend, wordpiece_tokenizer: PreTrainedTokenizerFast) -> None:
    real, ref = _reference(wordpiece_tokenizer)
    states = onnx8.forward(*_batch())
    top = _cosines(states[-1].numpy()[real.numpy()], ref[-1][real.numpy()])
    assert top.mean() > 0.99
    assert not np.array_equal(states[-1].numpy(), ref[-1])  # really quantized, not the float32 graph
    assert onnx8.size_on_disk < onnx32_size(onnx8)


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_int8_keeps_every_down_projection_whatever_the_activation(
    cache: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, bpe_tokenizer: PreTrainedTokenizerFast, kind: str
) -> None:
    """GELU (BERT) and SiLU/SwiGLU (Llama): one float32 down-projection per block, the (F, D) weight of the config's
    intermediate_size x hidden_size, and the metadata names exactly those nodes."""
    import json

    import onnx

    tok = wordpiece_tokenizer if kind == "bert" else bpe_tokenizer
    model = tiny_bert(tok) if kind == "bert" else tiny_llama(tok)
    backend = OnnxBackend(TorchBackend(model, tok, f"tiny-{kind}"), "int8")
    meta = json.loads((backend.folder / onnx_export.META_FILE).read_text())
    kept = meta["down_projections_float32"]
    cfg = model.config
    assert len(kept) == cfg.num_hidden_layers
    graph = onnx.load(str(backend.folder / onnx_export.MODEL_FILE)).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    nodes = {n.name: n for n in graph.node}
    for name in kept:  # still a float MatMul on a float32 weight of the feed-forward's shape
        assert nodes[name].op_type == "MatMul"
        weight = next(i for i in graph.initializer if i.name == nodes[name].input[1])
        assert weight.data_type == onnx.TensorProto.FLOAT
        assert shapes[weight.name] == (cfg.intermediate_size, cfg.hidden_size)
    assert "MatMulInteger" in {n.op_type for n in graph.node}  # the other weights really are int8


def test_an_export_leaves_logging_as_found_and_says_nothing_above_info(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    wordpiece_tokenizer: PreTrainedTokenizerFast,
) -> None:
    import warnings

    monkeypatch.setenv("CONTEXTVEC_CACHE", str(tmp_path))  # a fresh cache: a real first export
    root = logging.getLogger()
    names = ["onnxruntime", "torch.onnx", "fusion_skiplayernorm"]
    before = (root.level, list(root.handlers), list(root.filters), [logging.getLogger(n).level for n in names])
    records: list[logging.LogRecord] = []
    seen = logging.Handler(logging.DEBUG)
    seen.emit = records.append  # type: ignore[method-assign]
    root.addHandler(seen)
    level = root.level
    root.setLevel(logging.DEBUG)  # the test's own setting: every record anyone logs reaches `seen`
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            OnnxBackend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert"), "int8")
    finally:
        root.removeHandler(seen)
        root.setLevel(level)
    after = (root.level, list(root.handlers), list(root.filters), [logging.getLogger(n).level for n in names])
    assert after == before
    loud = [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.WARNING]
    assert loud == [] and [str(w.message) for w in caught] == []
    out, err = capfd.readouterr()
    assert out.strip() == "" and err.strip() == ""
    done = [r for r in records if r.name == onnx_export.__name__ and "exported" in r.getMessage()]
    assert len(done) == 2 and all(r.levelno == logging.INFO for r in done)  # float32, then int8


def onnx32_size(onnx8: OnnxBackend) -> int:
    return (Path(str(onnx8.folder).replace("-int8", "-float32")) / onnx_export.MODEL_FILE).stat().st_size


def test_attention_is_one_fused_op_per_layer(onnx32: OnnxBackend, onnx8: OnnxBackend) -> None:
    import onnx

    for backend in (onnx32, onnx8):
        ops = [n.op_type for n in onnx.load(str(backend.folder / onnx_export.MODEL_FILE)).graph.node]
        assert ops.count("Attention") == backend.info.num_layers and "Softmax" not in ops


def test_words_spans_sentences_keep_shapes_and_offsets(torch_backend: TorchBackend, onnx32: OnnxBackend) -> None:
    texts = [*CORPUS[:7], LONG]
    a = Embedder.from_backend(torch_backend, token_budget=256)
    b = Embedder.from_backend(onnx32, token_budget=256)
    for level in ("embed_words", "embed_tokens"):
        x, y = getattr(a, level)(texts), getattr(b, level)(texts)
        assert x.vectors.shape == y.vectors.shape
        assert (x.start.tolist(), x.end.tolist(), x.strings) == (y.start.tolist(), y.end.tolist(), y.strings)
        assert _cosines(x.vectors, y.vectors).min() > 0.9999
    spans = [(CORPUS[1], 22, 31), (LONG, 0, 3)]
    sx, sy = a.embed_spans(spans), b.embed_spans(spans)
    assert sx.strings == sy.strings and _cosines(sx.vectors, sy.vectors).min() > 0.9999
    ex, ey = a.embed_sentences(texts), b.embed_sentences(texts)
    assert ex.vectors.shape == ey.vectors.shape == (len(texts), 32) and ex.n_tokens.tolist() == ey.n_tokens.tolist()
    # the same float32 weights through another runtime: equal to float rounding (states differ by < 1e-4 above)
    np.testing.assert_allclose(ey.vectors, ex.vectors, atol=1e-4, rtol=0)
    assert _cosines(ex.vectors, ey.vectors).min() > 0.99999
    assert np.abs(ex.vectors[0] - ex.vectors[1]).max() > 1e-2  # different texts, different vectors: a real check


def test_int8_sentences_stay_close_to_torch(torch_backend: TorchBackend, onnx8: OnnxBackend) -> None:
    """The sentence path really runs the ONNX graph: int8 rounding shows, yet each vector keeps its direction."""
    texts = [*CORPUS[:7], LONG]
    ex = Embedder.from_backend(torch_backend, token_budget=256).embed_sentences(texts)
    ey = Embedder.from_backend(onnx8, token_budget=256).embed_sentences(texts)
    cos = _cosines(ex.vectors, ey.vectors)  # (N,)
    assert cos.min() > 0.99 and not np.allclose(ex.vectors, ey.vectors, atol=1e-6)
    others = _cosines(ex.vectors, np.roll(ey.vectors, 1, axis=0))  # each int8 vector against another text's
    assert (cos > others).all()


def test_cache_entry_is_reused_and_named_by_version_and_precision(
    onnx32: OnnxBackend,
    onnx8: OnnxBackend,
    wordpiece_tokenizer: PreTrainedTokenizerFast,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from contextvec import __version__

    recipe = f"-v{__version__}-opset{onnx_export.OPSET}"  # BERT: the opset with a fused Attention op
    assert onnx32.folder.name.endswith(f"{recipe}-float32") and onnx8.folder.name.endswith(f"{recipe}-int8")
    calls: list[Path] = []
    monkeypatch.setattr(onnx_export, "export_all_states", lambda model, path: calls.append(path))
    again = OnnxBackend(TorchBackend(tiny_bert(wordpiece_tokenizer), wordpiece_tokenizer, "tiny-bert"), "float32")
    assert again.folder == onnx32.folder and calls == []  # built once
    other = tiny_bert(wordpiece_tokenizer)
    with torch.no_grad():
        other.embeddings.word_embeddings.weight.add_(0.01)  # other weights: another entry, not a stale hit
    assert onnx_export.weights_fingerprint(other) != onnx_export.weights_fingerprint(tiny_bert(wordpiece_tokenizer))


def test_failed_export_leaves_no_entry(
    cache: Path, wordpiece_tokenizer: PreTrainedTokenizerFast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(model: object, path: Path) -> None:
        path.write_bytes(b"half a graph")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_export, "export_all_states", crash)
    model = tiny_bert(wordpiece_tokenizer)
    with torch.no_grad():
        model.pooler = None
        model.encoder.layer[0].output.dense.bias.add_(1.0)  # weights no entry holds yet
    with pytest.raises(ModelLoadError, match="could not export model 'crashy' to ONNX.*backend='torch'"):
        OnnxBackend(TorchBackend(model, wordpiece_tokenizer, "crashy"), "float32")
    assert not list((cache / "onnx").glob("crashy*")) and not list((cache / "onnx").glob(".tmp-crashy*"))


def test_attention_maps_name_the_torch_backend(onnx32: OnnxBackend) -> None:
    with pytest.raises(OptionError, match="backend='torch'"):
        onnx32.attentions(*_batch())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "tensorrt"}, "backend"),
        ({"dtype": "int4"}, "dtype"),
        ({"backend": "torch", "dtype": "int8"}, "int8.*backend='onnx'"),
        ({"backend": "onnx", "dtype": "bfloat16"}, "float32 or int8"),
        ({"backend": "onnx", "device": "cuda"}, "runs on the CPU|no CUDA support"),  # torch's build is checked first
    ],
)
def test_bad_choices_are_clear_errors(model_dir: str, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        Embedder(model_dir, **kwargs)  # type: ignore[arg-type]


def test_missing_onnxruntime(model_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r'pip install "contextvec\[onnx\]"'):
        load_backend(model_dir, backend="onnx", device="cpu")
    with pytest.raises(MissingExtraError):  # int8 cannot fall back without changing the numbers
        load_backend(model_dir, backend="auto", dtype="int8", device="cpu")
    assert load_backend(model_dir, backend="auto", device="cpu").name == "torch"  # float32 needs no onnxruntime


def test_failed_export_is_an_error_naming_torch(cache: Path, model_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(model: object, path: Path) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "export_all_states", crash)
    monkeypatch.setattr(onnx_export, "weights_fingerprint", lambda model: "never-built")
    with pytest.raises(ModelLoadError, match="unsupported operator.*backend='torch'"):
        load_backend(model_dir, backend="onnx", device="cpu")  # asked for by name: an error, not a fallback


def test_auto_follows_the_measured_table(cache: Path, model_dir: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        plain = load_backend(model_dir, backend="auto", device="cpu")
    assert (plain.name, plain.precision) == ("torch", "float32") and "measured no faster" in caplog.text
    int8 = load_backend(model_dir, backend="auto", dtype="int8", device="cpu")
    assert (int8.name, int8.precision) == ("onnx", "int8")
    assert load_backend(model_dir, backend="auto", dtype="bfloat16", device="cpu").name == "torch"
