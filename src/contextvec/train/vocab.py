"""Vocabularies trained on the corpus: WordPiece (mlm), byte-level BPE (causal), and words (elmo).

Subword tokenizers are built with `tokenizers` and saved in transformers' format (tokenizer.json and
tokenizer_config.json), so TorchBackend loads them like any model's. ELMo's vocabulary is the corpus's most
frequent words under contextvec's one word rule (contextvec.text), the rule its backend tokenizes with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contextvec.errors import OptionError
from contextvec.models.elmo import SPECIALS
from contextvec.text import split_words

BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")  # ids 0..4
EOT = "<|endoftext|>"  # the causal model's one special token: document separator, padding, unknown


def word_vocab(texts: Iterable[str], *, size: int, min_count: int, lowercase: bool = True) -> list[str]:
    """The specials, then up to `size - 4` words seen at least `min_count` times, most frequent first."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update((w.lower() if lowercase else w) for w in (text[s:e] for s, e in split_words(text).tolist()))
    words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
    words = [w for w in words if w not in SPECIALS][: max(0, size - len(SPECIALS))]
    if not words:
        raise OptionError(f"no word occurs {min_count}+ times in the corpus; lower min_count or use more text.")
    return [*SPECIALS, *words]


def wordpiece(texts: Iterable[str], *, size: int) -> Any:
    """A lowercasing BERT WordPiece tokenizer with the [CLS] ... [SEP] template, learned deterministically.

    tokenizers' WordPieceTrainer (0.23) gives a different vocabulary from run to run when counts tie (it numbers
    the "##" pieces in hash order), which would break `--seed`. So the pieces are learned by the BPE trainer
    without prefixes (deterministic), every corpus word is cut with it, and the cuts become the vocabulary: a
    word's first piece as is, the others as "##piece", most frequent first, ties in string order.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    texts = list(texts)
    normalizer, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for text in texts:
        words.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    alphabet = sorted({c for w in words for c in w})
    learner = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(vocab_size=size, initial_alphabet=alphabet, show_progress=False)
    learner.train_from_iterator(sorted(words), trainer=trainer)  # each word once: pieces that cover types
    pieces: Counter[str] = Counter({c: 0 for c in alphabet} | {"##" + c: 0 for c in alphabet})  # no [UNK] in-corpus
    for word, count in words.items():
        cut = learner.encode(word).tokens
        pieces.update({cut[0]: count} | {"##" + p: count for p in cut[1:]})
    base = [*BERT_SPECIALS, *(p for p in sorted(pieces) if len(p.removeprefix("##")) == 1)]
    rest = sorted((p for p in pieces if p not in base), key=lambda p: (-pieces[p], p))
    vocab = base + rest[: max(0, size - len(base))]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = normalizer, pre, decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return tok


def byte_bpe(texts: Iterable[str], *, size: int) -> Any:
    """A GPT-2-style byte-level BPE (no special tokens added around a text; <|endoftext|> separates documents)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A", pair="$A $B:1", special_tokens=[])
    return tok


def save_subword_tokenizer(tok: Any, kind: str, folder: Path, max_length: int) -> None:
    """tokenizer.json + tokenizer_config.json, as transformers' AutoTokenizer reads them."""
    from transformers import PreTrainedTokenizerFast

    if kind == "mlm":
        specials = {
            "unk_token": "[UNK]",
            "pad_token": "[PAD]",
            "cls_token": "[CLS]",
            "sep_token": "[SEP]",
            "mask_token": "[MASK]",
        }
    else:
        specials = {"unk_token": EOT, "pad_token": EOT, "bos_token": EOT, "eos_token": EOT}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **specials)  # type: ignore[no-untyped-call]
    fast.save_pretrained(str(folder))


def load_subword_tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(folder / "tokenizer.json"))
