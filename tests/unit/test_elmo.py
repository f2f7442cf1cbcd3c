"""The ELMo biLM and its backend: directions checked against LSTMs run by hand, the contract the engine needs,
and a folder that loads through the one loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from contextvec import Embedder
from contextvec.errors import ModelLoadError, OptionError
from contextvec.loader import load_embedder
from contextvec.models.elmo import BOS, EOS, SPECIALS, UNK, ElmoBiLM, ElmoConfig, reverse_index, save_elmo
from contextvec.models.elmo_backend import ElmoBackend
from contextvec.pooling.scalar_mix import ScalarMix

VOCAB = [*SPECIALS, "we", "sat", "on", "the", "bank", "of", "river", "."]


def _model(hidden: int = 8) -> ElmoBiLM:
    torch.manual_seed(0)
    return ElmoBiLM(ElmoConfig(vocab_size=len(VOCAB), dim=8, hidden=hidden, layers=2, dropout=0.0)).eval()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    save_elmo(_model(), VOCAB, tmp_path / "elmo")
    return tmp_path / "elmo"


def _by_hand(lstms: torch.nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
    """(T, d) inputs in reading order -> per layer (T, d): the LSTM equations step by step, residual from layer 2."""
    outs, h_in = [], x
    for k, lstm in enumerate(lstms):
        w_ih, w_hh, b = lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0 + lstm.bias_hh_l0
        w_hr = getattr(lstm, "weight_hr_l0", None)
        h = torch.zeros(w_hr.shape[0] if w_hr is not None else lstm.hidden_size)
        c = torch.zeros(lstm.hidden_size)
        ys = []
        for t in range(x.shape[0]):
            i, f, g, o = (w_ih @ h_in[t] + w_hh @ h + b).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            h = w_hr @ h if w_hr is not None else h
            ys.append(h)
        y = torch.stack(ys)
        h_in = y + h_in if k > 0 else y
        outs.append(h_in)
    return outs


@pytest.mark.parametrize("hidden", [8, 12])  # without and with the projection
def test_directions_match_lstms_run_by_hand_on_padded_rows(hidden: int) -> None:
    model = _model(hidden)
    ids = torch.tensor([[BOS, 4, 5, 6, 7, 8, EOS], [BOS, 8, 9, EOS, 0, 0, 0]])  # (2, 7), row 2 padded
    mask = (torch.arange(7) < torch.tensor([[7], [4]])).long()
    with torch.no_grad():
        states = model(ids, mask)
        assert len(states) == 3 and all(s.shape == (2, 7, 16) for s in states)
        for b, n in enumerate([7, 4]):
            e = model.embed.weight[ids[b, :n]]  # (n, d)
            fwd = _by_hand(model.forward_lm.lstms, e)
            bwd = [y.flip(0) for y in _by_hand(model.backward_lm.lstms, e.flip(0))]  # read right to left
            torch.testing.assert_close(states[0][b, :n], torch.cat([e, e], -1))
            for k in range(2):
                torch.testing.assert_close(states[k + 1][b, :n], torch.cat([fwd[k], bwd[k]], -1), atol=1e-5, rtol=0)


def test_reverse_index_reverses_real_tokens_only() -> None:
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert reverse_index(mask).tolist() == [[2, 1, 0, 3], [3, 2, 1, 0]]


def test_lm_losses_equal_cross_entropy_of_tied_softmax() -> None:
    model = _model()
    ids, mask = torch.tensor([[BOS, 4, 5, 6, EOS]]), torch.ones(1, 5, dtype=torch.long)
    with torch.no_grad():
        f, b = model.lm_losses(ids, mask)
        _, fwd, bwd = model.directions(ids, mask)
        W = model.embed.weight
        f_ref = torch.nn.functional.cross_entropy(fwd[-1][0, :-1] @ W.T, ids[0, 1:])  # t predicts t+1
        b_ref = torch.nn.functional.cross_entropy(bwd[-1][0, 1:] @ W.T, ids[0, :-1])  # t predicts t-1
    torch.testing.assert_close(f, f_ref)
    torch.testing.assert_close(b, b_ref)


def test_folder_loads_through_the_one_loader_with_word_tokens(folder: Path) -> None:
    emb = load_embedder(str(folder), device="cpu")
    assert isinstance(emb, Embedder) and isinstance(emb.backend, ElmoBackend)
    assert (emb.num_states, emb.dim, emb.info.causal) == (3, 16, False)
    text = "We sat on the Bank of the muddy river."
    toks = emb.embed_tokens([text], layers=0)
    assert [text[s:e] for s, e in zip(toks.start, toks.end, strict=True)] == [*text[:-1].split(), "."]
    ids = emb.backend.tokenize([text])[0].ids.tolist()
    assert ids[4] == VOCAB.index("bank") and ids[7] == UNK  # lowercased lookup, unknown word -> <unk>
    # the word vectors are the biLM's states, computed here directly from the network
    words = emb.embed_words([text], layers=2)
    full = torch.tensor([[BOS, *ids, EOS]])
    with torch.no_grad():
        ref = ElmoBackend.load(str(folder), "x", device="cpu").model(full, torch.ones_like(full))[2][0, 1:-1]
    np.testing.assert_allclose(words.vectors, ref.numpy(), atol=1e-6)


def test_windows_of_a_long_text_match_one_pass_far_from_the_cut(folder: Path) -> None:
    text = " ".join(["we sat on the bank of the river ."] * 12)  # 108 words
    whole = Embedder(str(folder), device="cpu").embed_words([text], layers=1).vectors
    windowed = Embedder(str(folder), device="cpu", max_length=40, stride=20).embed_words([text], layers=1)
    assert windowed.vectors.shape == whole.shape
    # an LSTM's state depends on all it has read: windows differ, but each word keeps some context on both sides
    assert np.isfinite(windowed.vectors).all()
    assert not np.allclose(windowed.vectors, whole)


def test_damaged_folder_and_attention_give_clear_errors(folder: Path) -> None:
    vocab = json.loads((folder / "vocab.json").read_text())
    (folder / "vocab.json").write_text(json.dumps(vocab[:-1]))
    with pytest.raises(ModelLoadError, match="do not belong together"):
        Embedder(str(folder))
    (folder / "vocab.json").unlink()
    with pytest.raises(ModelLoadError, match="vocab.json is missing"):
        Embedder(str(folder))


def test_attention_is_refused_for_an_lstm(folder: Path) -> None:
    backend = Embedder(str(folder), device="cpu").backend
    ids = torch.tensor([[BOS, 4, EOS]])
    with pytest.raises(OptionError, match="no attention"):
        backend.attentions(ids, torch.ones_like(ids))


def test_scalar_mix_is_gamma_times_softmax_weighted_sum() -> None:
    mix = ScalarMix(3)
    with torch.no_grad():
        mix.scalars.copy_(torch.tensor([0.0, 1.0, 2.0]))
        mix.gamma.fill_(2.0)
    states = [torch.full((2, 4), float(k + 1)) for k in range(3)]
    w = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    expected = 2.0 * float(np.dot(w, [1.0, 2.0, 3.0]))
    torch.testing.assert_close(mix(states), torch.full((2, 4), expected))
    np.testing.assert_allclose(mix.layer_weights(), 2.0 * w, rtol=1e-6)


def _edit_json(name: str, change: Any) -> Any:
    def edit(folder: Path) -> None:
        new = change(json.loads((folder / name).read_text()))
        (folder / name).write_text(new if isinstance(new, str) else json.dumps(new))  # a str: raw text

    return edit


def _replace_weights(folder: Path) -> None:
    from safetensors.torch import save_file

    save_file({"not.a.weight": torch.zeros(2)}, str(folder / "model.safetensors"))


def _truncate_weights(folder: Path) -> None:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])


# (damage, the file the message must name, what it must say)
DAMAGED_FOLDERS = {
    "config not json": (_edit_json("config.json", lambda c: "{oops"), "config.json", "valid JSON"),
    "vocab not json": (_edit_json("vocab.json", lambda v: "[oops"), "vocab.json", "not valid JSON"),
    "config lacks vocab_size": (
        _edit_json("config.json", lambda c: {k: v for k, v in c.items() if k != "vocab_size"}),
        "config.json",
        "vocab_size",
    ),
    "dim is text": (_edit_json("config.json", lambda c: {**c, "dim": "8"}), "config.json", "dim"),
    "layers zero": (_edit_json("config.json", lambda c: {**c, "layers": 0}), "config.json", "layers"),
    "lowercase is text": (_edit_json("config.json", lambda c: {**c, "lowercase": "yes"}), "config.json", "lowercase"),
    "max_length is text": (
        _edit_json("config.json", lambda c: {**c, "max_length": "512"}),
        "config.json",
        "max_length",
    ),
    "dropout above 1": (_edit_json("config.json", lambda c: {**c, "dropout": 1.5}), "config.json", "dropout"),
    "vocab an object": (_edit_json("vocab.json", lambda v: {"words": v}), "vocab.json", "list of"),
    "vocab holds numbers": (_edit_json("vocab.json", lambda v: [*v[:-1], 7]), "vocab.json", "list of"),
    "vocab repeats a word": (_edit_json("vocab.json", lambda v: [*v[:-1], v[4]]), "vocab.json", "twice"),
    "weights truncated": (_truncate_weights, "model.safetensors", "damaged"),
    "weights of another model": (_replace_weights, "model.safetensors", "does not match"),
}


@pytest.mark.parametrize(("damage", "names", "says"), DAMAGED_FOLDERS.values(), ids=DAMAGED_FOLDERS.keys())
def test_a_damaged_file_is_a_model_load_error_naming_it(folder: Path, damage: Any, names: str, says: str) -> None:
    """Every malformed file of an ELMo folder: one ModelLoadError naming the file and the problem, from the loader
    (never a TypeError from inside torch, a silently truthy "yes", or a refusal blamed on the user's option)."""
    damage(folder)
    with pytest.raises(ModelLoadError) as info:
        Embedder(str(folder), device="cpu")
    message = str(info.value)
    assert str(folder / names) in message and says in message, message


def test_a_pickle_in_an_elmo_folder_is_never_run(folder: Path, tmp_path: Path) -> None:
    """Weights are read with safetensors only: a pickle in their place (or beside them) is refused, not executed."""
    import pickle

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str, str]]:
            return (open, (str(marker), "w"))  # unpickling it creates the marker file

    evil = pickle.dumps(Payload())
    (folder / "pytorch_model.bin").write_bytes(evil)
    (folder / "model.safetensors").write_bytes(evil)
    for load in (lambda: Embedder(str(folder), device="cpu"), lambda: ElmoBackend.load(str(folder), "x")):
        with pytest.raises(ModelLoadError, match=r"model\.safetensors.*damaged"):
            load()  # the loader's structural check, and the ELMo reader itself
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.safetensors is missing"):
        Embedder(str(folder), device="cpu")
    assert not marker.exists()
