"""The torch backend: a transformers model and its fast tokenizer behind one small contract.

    tokenize(texts)            -> per text: content token ids (n,) and char offsets (n, 2), no special tokens
    forward(ids (B, T), mask)  -> L+1 hidden states, each (B, T, D)

plus what the spine needs to know: layers, hidden size, window size, special-token template, causal or not.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from contextvec.errors import ModelLoadError, ModelNotFoundError
from contextvec.models.recipes import (
    Recipe,
    SentenceRecipe,
    recipe_for,
    weights_key,
)
from contextvec.models.registry import resolve_model
from contextvec.options import check_choice

if TYPE_CHECKING:
    import torch

from contextvec.models.info import Encoded as Encoded
from contextvec.models.info import ModelInfo as ModelInfo
from contextvec.models.inspect import DEFAULT_MAX_WINDOW as DEFAULT_MAX_WINDOW
from contextvec.models.inspect import (
    check_model,
    checked_sentence,
    has_lm_head,
    is_causal,
    model_limit,
    private_tokenizer,
    special_template,
    window,
)

logger = logging.getLogger(__name__)

DType = Literal["float32", "bfloat16", "float16"]


class TorchBackend:
    """A transformers model (encoder or decoder) run with torch, returning all hidden states."""

    name = "torch"

    def __init__(
        self,
        model: Any,
        hf_tokenizer: Any,
        model_id: str,
        *,
        device: str = "auto",
        dtype: DType = "float32",
        max_length: int | None = None,
        fast_path: bool = True,
        sentence_recipe: SentenceRecipe | None = None,
        recipe: Recipe | None = None,
    ) -> None:
        import torch

        from contextvec.models.fast_encoder import build_fast_encoder

        check_model(model, hf_tokenizer, model_id)
        config = model.config
        if recipe is None or sentence_recipe is None:  # a model made in code: known weights keep their recipe
            found = recipe_for(None, None, weights_key(model), int(config.num_hidden_layers))
            recipe, sentence_recipe = recipe or found[0], sentence_recipe or found[1]
        check_choice("dtype", dtype, ("float32", "bfloat16", "float16"))
        self.precision: str = dtype
        self.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
        # A fused forward for plain BERT and MPNet encoders, checked against transformers before it is trusted.
        # The check runs before the cast, in the precision the model arrives in (float32 from `load`), where the two
        # must agree to rounding; in bfloat16 they differ by more than the arithmetic's rounding, because SDPA keeps
        # its softmax in float32 where transformers' MPNet attention does not (the fused one is the closer to
        # float32: docs/backends.md), so a bfloat16 comparison could not tell a wrong fusion from that.
        fast = build_fast_encoder(model.eval()) if fast_path else None
        self.model = model.to(device=self.device, dtype=getattr(torch, dtype)).eval()
        self.fast = fast.to(device=self.device, dtype=getattr(torch, dtype)) if fast is not None else None
        self._twin: Any = None  # the eager-attention twin, built on the first attentions() call
        self._twin_lock = threading.Lock()
        self.hf_tokenizer = hf_tokenizer  # the transformers tokenizer, kept so a changed model can be saved whole
        self.tokenizer = tok = private_tokenizer(hf_tokenizer)
        self.prefix_ids, self.suffix_ids = special_template(tok)
        pad = hf_tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else 0
        limit = model_limit(config, hf_tokenizer)
        max_length = window(max_length, limit, len(self.prefix_ids) + len(self.suffix_ids), model_id)
        causal = is_causal(config)
        self.info = ModelInfo(
            model_id=model_id,
            architecture=type(model).__name__,
            num_layers=int(config.num_hidden_layers),
            hidden_size=int(config.hidden_size),
            max_length=int(max_length),
            model_limit=int(limit),
            causal=causal,
            has_cls=len(self.prefix_ids) > 0,
            parameters=sum(p.numel() for p in model.parameters()),
            sentence_recipe=checked_sentence(sentence_recipe, self.suffix_ids),
            recipe=recipe,
        )

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str = "auto",
        dtype: DType = "float32",
        max_length: int | None = None,
        fast_path: bool = True,
    ) -> TorchBackend:
        """Load an offline name, a local folder, a .gguf file, or (online only) a hub id."""
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        resolved = resolve_model(model)
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # a local load's bar is noise
        verbosity = hf_logging.get_verbosity()  # type: ignore[no-untyped-call]
        if has_lm_head(resolved.path):  # its head's weights are "unexpected" in the bare model: expected here
            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        try:
            hf_tokenizer = AutoTokenizer.from_pretrained(resolved.path)
            hf_model, loading = AutoModel.from_pretrained(resolved.path, output_loading_info=True)
        except OSError as exc:  # transformers reports missing files, offline hubs and unknown ids as OSError
            if resolved.source == "hub":
                raise ModelNotFoundError(
                    f"model {model!r} is not an offline name or local folder, and the hub could not provide it "
                    f"({str(exc).splitlines()[0]}). Offline names: minilm, mpnet, smollm2 (see `contextvec models`)."
                ) from None
            raise ModelLoadError(f"could not load model {model!r} from {resolved.path}: {exc}") from None
        except Exception as exc:  # e.g. SafetensorError from a truncated weight file: one clear error
            raise ModelLoadError(
                f"could not load model {model!r} from {resolved.path} ({type(exc).__name__}: {exc}); its files are "
                "damaged. For a cached model, run again (contextvec verifies and rebuilds its cache); for your own "
                "folder, save or download the weights again."
            ) from exc
        finally:
            hf_logging.set_verbosity(verbosity)  # type: ignore[no-untyped-call]
            if bar_was_on:
                hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
        recipe, sentence_recipe = recipe_for(
            resolved.path if resolved.source != "hub" else None,
            resolved.model_id if resolved.source == "package" else None,
            weights_key(hf_model, skip=set(loading.get("missing_keys") or ())),  # not the random fill-ins
            int(hf_model.config.num_hidden_layers),
        )
        return cls(
            hf_model,
            hf_tokenizer,
            resolved.model_id,
            device=device,
            dtype=dtype,
            max_length=max_length,
            fast_path=fast_path,
            sentence_recipe=sentence_recipe,
            recipe=recipe,
        )

    def tokenize(self, texts: Sequence[str]) -> list[Encoded]:
        """Content tokens of each text (no special tokens, no truncation), with char offsets."""
        return [
            Encoded(
                ids=np.asarray(e.ids, dtype=np.int64),
                offsets=np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2),
            )
            for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ]

    def piece(self, token_id: int) -> str:
        return self.tokenizer.id_to_token(token_id) or ""

    def _eager_twin(self) -> Any:
        """The model with eager attention, built once: a copy of its module tree whose parameters and buffers are
        the model's own tensors (no second copy of the weights), with its own config."""
        with self._twin_lock:
            if self._twin is None:
                if self.model.config._attn_implementation == "eager":
                    self._twin = self.model
                else:
                    shared = {id(t): t for t in (*self.model.parameters(), *self.model.buffers())}
                    twin = copy.deepcopy(self.model, memo=shared)
                    twin.set_attn_implementation("eager")
                    self._twin = twin
            return self._twin

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, T) ids and mask -> L+1 hidden states, each (B, T, D), on the backend's device."""
        import torch

        if self.fast is not None:
            with torch.inference_mode():
                states: tuple[torch.Tensor, ...] = self.fast(input_ids.to(self.device), attention_mask.to(self.device))
            return states
        kwargs: dict[str, Any] = {"output_hidden_states": True, "return_dict": True}
        if self.info.causal:
            kwargs["use_cache"] = False
        with torch.inference_mode():
            out = self.model(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), **kwargs
            )
        hidden: tuple[torch.Tensor, ...] = out.hidden_states
        if len(hidden) != self.info.num_layers + 1:
            raise ModelLoadError(f"model returned {len(hidden)} hidden states, expected {self.info.num_layers + 1}")
        return hidden

    def attentions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, T) ids and mask -> attention probabilities (L, B, H, T, T), rows = from, columns = to.

        SDPA kernels do not return their weights, so this runs transformers' eager attention (same numbers, slower)
        on a twin of the model that shares its weights: the model that `forward` runs is never switched, so
        concurrent forwards keep their own attention implementation.
        """
        import torch

        with torch.inference_mode():
            out = self._eager_twin()(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                output_attentions=True,
                return_dict=True,
                **({"use_cache": False} if self.info.causal else {}),
            )
        if not out.attentions:
            raise ModelLoadError(f"model {self.info.model_id!r} did not return attention weights.")
        return torch.stack([a.float() for a in out.attentions])  # (L, B, H, T, T)
