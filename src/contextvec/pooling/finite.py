"""Guards against NaN and infinity: a model's forward output, and vectors narrowed to float16 for output.

A damaged weight file (random bytes over a cached `model.safetensors`) makes a model return NaN, and a cosine of
NaN looks like a result. These checks turn both cases into a NonFiniteError that says what to do.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from contextvec.errors import NonFiniteError

_F16_MAX = float(np.finfo(np.float16).max)  # 65504.0


def check_finite_output(values: npt.NDArray[np.floating], model_id: str, path: str | None = None) -> None:
    """Raise NonFiniteError if a forward's pooled output (B, T, D) holds NaN or infinity.

    Costs one pass over the array (about 0.1 ms per million values); call it on every batch right after the
    forward pass, before the vectors are merged or pooled further.
    """
    if np.isfinite(values).all():
        return
    n_bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    where = f" (files in {path!r})" if path else ""
    raise NonFiniteError(
        f"model {model_id!r}{where} produced {n_bad} NaN/infinite value(s) out of {values.size}: its weights are "
        "damaged or the layer weights overflow. Re-run to let contextvec verify and rebuild its cache, reinstall the "
        "model package, or use finite layer_pooling weights of a moderate size."
    )


def narrow(
    vectors: npt.NDArray[np.float32], dtype: Literal["float32", "float16"], where: str
) -> npt.NDArray[np.floating]:
    """`vectors` in the output dtype, refusing NaN/infinity and values float16 cannot hold (it would write ±inf).

    `where` names the output in the message (e.g. "the response"). Costs one pass over the array.
    """
    if vectors.size and not np.isfinite(vectors).all():
        raise NonFiniteError(
            f"vectors for {where} hold NaN or infinity, which strict JSON and most readers refuse; the model's "
            "weights are damaged or the layer_pooling weights overflow. Use moderate, finite weights, or reinstall "
            "the model."
        )
    if dtype != "float16":
        return vectors.astype(np.float32, copy=False)
    peak = float(np.max(np.abs(vectors))) if vectors.size else 0.0
    if peak > _F16_MAX:
        raise NonFiniteError(
            f"vectors for {where} reach |x| = {peak:g}, beyond float16's largest value {_F16_MAX:g}, so float16 "
            "would turn them into infinity. Use dtype float32, or smaller layer_pooling weights (e.g. weights "
            "that sum to 1)."
        )
    return vectors.astype(np.float16)
