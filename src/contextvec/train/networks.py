"""The networks each kind trains: ELMo's biLM (contextvec.models.elmo), and for mlm / causal a BERT encoder with
its masked-LM head and a Llama decoder with its LM head, built from a config with transformers' own classes, so
the saved folder is transformers' format (config.json + model.safetensors) and TorchBackend loads it as is.
"""

from __future__ import annotations

from typing import Any

from contextvec.models.elmo import ElmoBiLM, ElmoConfig
from contextvec.train.config import Kind, NetConfig


def build_network(kind: Kind, net: NetConfig, vocab_size: int, special_ids: dict[str, int]) -> Any:
    """A freshly initialised network (torch's global RNG decides the weights: seed it first)."""
    if kind == "elmo":
        return ElmoBiLM(
            ElmoConfig(
                vocab_size=vocab_size,
                dim=net.dim,
                hidden=net.hidden,
                layers=net.layers,
                dropout=net.dropout,
                max_length=net.seq_len + 2,
            )
        )
    if kind == "mlm":
        from transformers import BertConfig, BertForMaskedLM

        bert = BertConfig(
            vocab_size=vocab_size,
            hidden_size=net.dim,
            num_hidden_layers=net.layers,
            num_attention_heads=net.heads,
            intermediate_size=net.hidden,
            max_position_embeddings=net.seq_len,
            hidden_dropout_prob=net.dropout,
            attention_probs_dropout_prob=net.dropout,
            pad_token_id=special_ids["pad"],
            type_vocab_size=2,
            tie_word_embeddings=True,
        )
        return BertForMaskedLM(bert)
    from transformers import LlamaConfig, LlamaForCausalLM

    llama = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=net.dim,
        num_hidden_layers=net.layers,
        num_attention_heads=net.heads,
        num_key_value_heads=net.heads,
        intermediate_size=net.hidden,
        max_position_embeddings=net.seq_len,
        attention_dropout=net.dropout,
        pad_token_id=special_ids["pad"],
        bos_token_id=special_ids["pad"],
        eos_token_id=special_ids["pad"],
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(llama)
