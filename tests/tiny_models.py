"""Tokenizers and tiny random models built in code (no weights, no downloads), shared by the tests."""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertModel,
    LlamaConfig,
    LlamaModel,
    MPNetConfig,
    MPNetModel,
    PreTrainedTokenizerFast,
)

CORPUS = [
    "The bank approved my loan after a long review of the account.",
    "We sat on the bank of the river and watched the water run by.",
    "Unbelievably, the chicken didn't cross the road because it was too tired.",
    "Contextual embeddings give each use of a word its own vector, from the words around it.",
    "Static embeddings such as word2vec and GloVe give a word one vector for all of its senses.",
    "Café, naïve, résumé: accents and ümlauts are words too; so are 42, 3.14 and e-mail.",
    "世界 你好 こんにちは שלום مرحبا 😀 👍🏽 — dashes, “quotes” and ellipses…",
] * 3

WORDS = sorted({w.lower() for line in CORPUS for w in line.replace(",", " ").replace(".", " ").split()})


def _wordpiece() -> PreTrainedTokenizerFast:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces: set[str] = set()
    for w in ["the", "bank", "river", "of", "on", "we", "sat", "a", "word", "it", "was", "too", "road", "cross"]:
        pieces.add(w)
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789.,:;!?'\"-()–—…“”世界你好":
        pieces.add(ch)
        pieces.add("##" + ch)
    for suffix in ["ing", "ed", "s", "ly", "able"]:
        pieces.add("##" + suffix)
    vocab += sorted(pieces)
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )


def _byte_level_bpe() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def _byte_fallback_bpe() -> PreTrainedTokenizerFast:
    """SentencePiece-style BPE: '▁' marks a leading space, unknown characters fall back to <0xNN> byte tokens."""
    base = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    letters = sorted(set("".join(CORPUS)) - set(" 世界你好こんにちはשלוםمرحبا😀👍🏽“”…—"))
    vocab = {t: i for i, t in enumerate([*base, "▁", *letters, "▁t", "▁th", "▁the", "an", "ank", "▁bank"])}
    merges = [("▁", "t"), ("▁t", "h"), ("▁th", "e"), ("a", "n"), ("an", "k"), ("▁", "b")]
    merges_ok = [m for m in merges if m[0] + m[1] in vocab]
    vocab["▁b"] = len(vocab)
    merges_ok.append(("▁b", "ank"))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges_ok, unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def tiny_bert(tokenizer: PreTrainedTokenizerFast, max_positions: int = 64, layers: int = 3) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertModel(config, add_pooling_layer=False).eval()


def tiny_mpnet(vocab_size: int, max_positions: int = 256) -> MPNetModel:
    """MPNet's layout (relative position bias, positions counted from padding id 1), 3 layers of 32-d."""
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        pad_token_id=1,
    )
    model = MPNetModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # random init leaves the bias near zero; make it matter so a wrong bucket shows
        model.encoder.relative_attention_bias.weight.normal_(0.0, 1.0)
    return model


def tiny_llama(tokenizer: PreTrainedTokenizerFast, max_positions: int = 128) -> LlamaModel:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaModel(config).eval()
