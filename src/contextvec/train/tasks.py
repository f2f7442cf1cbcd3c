"""One task per kind of model: its rows, its batches, its loss, its held-out perplexity and its saved folder.

elmo    rows = <s> sentence </s> (words)     loss = mean of the forward and backward LM cross-entropies
mlm     rows = [CLS] window [SEP] (WordPiece) loss = cross-entropy on the 15% masked positions
causal  rows = windows of the BPE stream      loss = next-token cross-entropy
vit     rows = images, as patches             loss = squared error of the hidden patches' pixels (train/vit.py)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import torch

from contextvec.models.elmo import BOS, EOS, PAD, ElmoBiLM, save_elmo
from contextvec.models.elmo_backend import encode_words, vocab_index
from contextvec.train.batches import IGNORE, Batch, mask_tokens, pad_rows, random_windows
from contextvec.train.config import Kind

Rows = list[npt.NDArray[np.int64]]
EVAL_SEED = 1234  # the held-out masking (mlm) is the same at every evaluation


class StepBatch(Protocol):
    """What the loop reads of a batch: how many tokens (text) or patches (images) it trains on."""

    @property
    def tokens(self) -> int: ...


class Task(Protocol):
    kind: Kind
    model: Any

    def batch(self, gen: torch.Generator, size: int) -> StepBatch: ...

    def loss(self, batch: Any) -> torch.Tensor: ...  # the batch this task's `batch` made

    def heldout(self, max_tokens: int, batch_size: int) -> dict[str, float]: ...

    def export(self, folder: Path) -> None: ...


def _eval_rows(rows: Rows, max_tokens: int) -> Rows:
    out: Rows = []
    total = 0
    for r in rows:
        if total >= max_tokens:
            break
        out.append(r)
        total += len(r)
    return out


class ElmoTask:
    kind: Kind = "elmo"

    def __init__(self, model: ElmoBiLM, vocab: list[str], train: list[str], heldout: list[str]) -> None:
        self.model, self.vocab = model, vocab
        index, chunk = vocab_index(vocab), model.config.max_length - 2
        lower = model.config.lowercase

        def rows(texts: list[str]) -> Rows:
            out: Rows = []
            for text in texts:
                ids = encode_words(text, index, lower).ids
                for s in range(0, len(ids), chunk):  # a long sentence is trained on in chunks
                    out.append(np.concatenate([[BOS], ids[s : s + chunk], [EOS]]).astype(np.int64))
            return out

        self.rows, self.heldout_rows = rows(train), rows(heldout)

    def batch(self, gen: torch.Generator, size: int) -> Batch:
        picks = torch.randint(0, len(self.rows), (size,), generator=gen).tolist()
        ids, mask = pad_rows([self.rows[i] for i in picks], PAD)
        return Batch(ids, mask, None, int(mask.sum()))

    def loss(self, batch: Batch) -> torch.Tensor:
        f, b = self.model.lm_losses(batch.ids, batch.mask)
        return (f + b) / 2

    def heldout(self, max_tokens: int, batch_size: int) -> dict[str, float]:
        rows = _eval_rows(self.heldout_rows, max_tokens)
        sums, n = [0.0, 0.0], 0
        with torch.no_grad():
            for k in range(0, len(rows), batch_size):
                ids, mask = pad_rows(rows[k : k + batch_size], PAD)
                count = int(mask[:, 1:].sum())  # predictions per direction
                for d, loss in enumerate(self.model.lm_losses(ids, mask)):
                    sums[d] += float(loss) * count
                n += count
        if n == 0:
            return {}
        fwd, bwd = sums[0] / n, sums[1] / n
        return {
            "perplexity": math.exp((fwd + bwd) / 2),
            "forward_perplexity": math.exp(fwd),
            "backward_perplexity": math.exp(bwd),
            "tokens": float(n),
        }

    def export(self, folder: Path) -> None:
        save_elmo(self.model, self.vocab, folder)


class SubwordTask:
    """mlm and causal: a transformers model over a subword stream."""

    def __init__(self, kind: Kind, model: Any, tokenizer: Any, train: list[str], heldout: list[str]) -> None:
        from contextvec.train.vocab import EOT

        self.kind, self.model, self.tokenizer = kind, model, tokenizer
        self.seq_len = int(model.config.max_positions)
        self.vocab_size = int(model.config.vocab_size)
        if kind == "mlm":
            self.cls, self.sep, self.mask_id = (tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[MASK]"))
            self.pad, self.sep_between = tokenizer.token_to_id("[PAD]"), [self.sep]
        else:
            self.pad = tokenizer.token_to_id(EOT)
            self.sep_between = [self.pad]
        self.stream, self.heldout_stream = self._stream(train), self._stream(heldout)

    def _stream(self, texts: list[str]) -> npt.NDArray[np.int64]:
        parts = []
        for enc in self.tokenizer.encode_batch(texts, add_special_tokens=False):
            parts.extend(enc.ids)
            parts.extend(self.sep_between)  # texts are separated ([SEP] for mlm, <|endoftext|> for causal)
        return np.asarray(parts, dtype=np.int64)

    def _rows(self, windows: Rows, gen: torch.Generator) -> Batch:
        if self.kind == "causal":
            ids, mask = pad_rows(windows, self.pad)
            return Batch(ids, mask, ids.masked_fill(mask == 0, IGNORE), int(mask.sum()))
        rows = [np.concatenate([[self.cls], w, [self.sep]]).astype(np.int64) for w in windows]
        ids, mask = pad_rows(rows, self.pad)
        maskable = mask.clone()
        maskable[:, 0] = 0
        maskable[torch.arange(len(rows)), mask.sum(1) - 1] = 0  # never [CLS] or the final [SEP]
        corrupted, labels = mask_tokens(ids, maskable, self.mask_id, self.vocab_size, gen)
        return Batch(corrupted, mask, labels, int(mask.sum()))

    def _content_len(self) -> int:
        return self.seq_len - 2 if self.kind == "mlm" else self.seq_len

    def batch(self, gen: torch.Generator, size: int) -> Batch:
        return self._rows(random_windows(self.stream, size, self._content_len(), gen), gen)

    def loss(self, batch: Batch) -> torch.Tensor:
        """Cross-entropy of the masked positions (mlm) or of each next token (causal: t predicts t+1)."""
        assert batch.labels is not None
        logits = self.model(batch.ids, batch.mask).logits  # (B, T, V)
        labels = batch.labels
        if self.kind == "causal":
            logits, labels = logits[:, :-1], labels[:, 1:]
        loss: torch.Tensor = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE
        )
        return loss

    def heldout(self, max_tokens: int, batch_size: int) -> dict[str, float]:
        n = self._content_len()
        stream = self.heldout_stream[:max_tokens]
        windows = [stream[s : s + n] for s in range(0, len(stream) - 1, n)]  # consecutive, not overlapping
        gen = torch.Generator().manual_seed(EVAL_SEED)
        total, count = 0.0, 0
        with torch.no_grad():
            for k in range(0, len(windows), batch_size):
                batch = self._rows(windows[k : k + batch_size], gen)
                assert batch.labels is not None
                targets = (
                    int((batch.labels[:, 1:] != IGNORE).sum())
                    if self.kind == "causal"
                    else int((batch.labels != IGNORE).sum())
                )
                total += float(self.loss(batch)) * targets
                count += targets
        if count == 0:
            return {}
        return {"perplexity": math.exp(total / count), "tokens": float(count)}

    def export(self, folder: Path) -> None:
        from contextvec.train.vocab import save_subword_tokenizer

        self.model.save_pretrained(str(folder))  # transformers' format: BertForMaskedLM / LlamaForCausalLM
        save_subword_tokenizer(self.tokenizer, self.kind, folder, self.seq_len)
