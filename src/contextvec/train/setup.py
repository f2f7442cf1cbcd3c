"""Building a run's task: the vocabulary trained on the corpus (or restored from a checkpoint) and the network."""

from __future__ import annotations

import logging
from typing import Any

from contextvec.data.images import ImageSet
from contextvec.train.config import Kind, NetConfig
from contextvec.train.corpus import Corpus
from contextvec.train.networks import build_network
from contextvec.train.tasks import ElmoTask, SubwordTask, Task

logger = logging.getLogger(__name__)


def train_vocabulary(kind: Kind, net: NetConfig, corpus: Corpus | ImageSet) -> Any:
    """ELMo: a word list; mlm: a WordPiece tokenizer's JSON; causal: a byte-level BPE's JSON; vit: the pixel
    statistics the model normalises its input with (all JSON-able)."""
    from contextvec.train.vocab import byte_bpe, word_vocab, wordpiece

    if isinstance(corpus, ImageSet):
        from contextvec.train.vit import pixel_stats

        return pixel_stats(corpus)
    texts = corpus.train_texts()
    logger.info("training the %s vocabulary on %d texts", kind, len(texts))
    if kind == "elmo":
        return word_vocab(texts, size=net.vocab_size, min_count=net.min_count)
    tok = wordpiece(texts, size=net.vocab_size) if kind == "mlm" else byte_bpe(texts, size=net.vocab_size)
    return tok.to_str()


def build_task(kind: Kind, net: NetConfig, corpus: Corpus | ImageSet, vocabulary: Any) -> Task:
    """The task with a freshly initialised network (seed torch first; a resumed run then loads its weights)."""
    if isinstance(corpus, ImageSet):
        from contextvec.train.vit import ViTTask, build_vit

        return ViTTask(build_vit(net, corpus, vocabulary), corpus)
    if kind == "elmo":
        model = build_network(kind, net, len(vocabulary), {"pad": 0})
        return ElmoTask(model, list(vocabulary), corpus.train_texts(), corpus.heldout_texts())
    from tokenizers import Tokenizer

    from contextvec.train.vocab import EOT

    tok = Tokenizer.from_str(vocabulary)
    pad = tok.token_to_id("[PAD]" if kind == "mlm" else EOT)
    assert pad is not None, "the vocabulary trainers always add the padding token"
    model = build_network(kind, net, tok.get_vocab_size(), {"pad": pad})
    return SubwordTask(kind, model, tok, corpus.train_texts(), corpus.heldout_texts())
