"""The pieces of `contextvec train`: BERT's masking, the vocabularies, the checkpoint file format."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from contextvec.errors import CheckpointError
from contextvec.models.elmo import SPECIALS
from contextvec.train.batches import IGNORE, mask_tokens, random_windows
from contextvec.train.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from contextvec.train.vocab import BERT_SPECIALS, EOT, byte_bpe, word_vocab, wordpiece

TEXTS = ["We sat on the bank of the river.", "The bank raised its rates; the riverbank flooded."] * 30


def test_masking_is_15_percent_then_80_10_10() -> None:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 1000, (200, 500), generator=gen)  # (B, T), no id is MASK (5)
    maskable = torch.ones_like(ids)
    maskable[:, 0] = 0  # e.g. [CLS]
    out, labels = mask_tokens(ids, maskable, mask_id=5, vocab_size=1000, gen=gen)
    chosen = labels != IGNORE
    assert not chosen[:, 0].any()
    assert torch.equal(labels[chosen], ids[chosen])  # targets are the original tokens
    rate = chosen.float().sum() / maskable.sum()
    assert abs(rate - 0.15) < 0.005
    n = chosen.sum()
    as_mask = (out[chosen] == 5).float().sum() / n
    kept = (out[chosen] == ids[chosen]).float().sum() / n  # includes random draws that hit the same id (~0.1%)
    assert abs(as_mask - 0.8) < 0.01 and abs(kept - 0.1) < 0.01
    assert abs((1 - as_mask - kept) - 0.1) < 0.01  # the rest became another token
    assert torch.equal(out[~chosen], ids[~chosen])


def test_random_windows_come_from_the_stream() -> None:
    stream = torch.arange(100).numpy()
    for w in random_windows(stream, 20, 8, torch.Generator().manual_seed(1)):
        assert len(w) == 8 and (w[1:] - w[:-1] == 1).all()


def test_vocabularies() -> None:
    words = word_vocab(TEXTS, size=8, min_count=2)
    assert words[:4] == list(SPECIALS) and words[4] == "the" and len(words) == 8  # most frequent first, lowercased
    wp = wordpiece(TEXTS, size=60)
    assert [wp.token_to_id(t) for t in BERT_SPECIALS] == [0, 1, 2, 3, 4]
    assert wordpiece(TEXTS, size=60).to_str() == wp.to_str()  # the same corpus gives the same vocabulary
    enc = wp.encode("The riverbank", add_special_tokens=True)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert "".join(t.removeprefix("##") for t in enc.tokens[2:-1]) == "riverbank"
    bpe = byte_bpe(TEXTS, size=300)
    assert bpe.token_to_id(EOT) == 0 and bpe.decode(bpe.encode("naïve café 😀").ids) == "naïve café 😀"  # bytes


def test_checkpoint_format_detects_damage(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path, 7, {"w": torch.arange(4.0), "step": 7}, keep=2)
    assert path.name == "step-00000007.ckpt" and load_checkpoint(path)["step"] == 7
    for step in (8, 9):
        save_checkpoint(tmp_path, step, {"step": step}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000008.ckpt", "step-00000009.ckpt"]
    last = list_checkpoints(tmp_path)[-1]
    last.write_bytes(last.read_bytes()[:20])
    with pytest.raises(CheckpointError, match=r"cut short.*step-00000008"):
        load_checkpoint(last)
    assert not list(tmp_path.glob("checkpoints/.*.tmp"))  # no temp files left behind
