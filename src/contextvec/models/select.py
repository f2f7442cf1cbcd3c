"""Which backend runs a model: the one place `backend=` and `dtype=` are checked and `auto` is decided.

`auto` picks, for this machine, what benchmarks/throughput.py measured fastest among the choices that meet the
parity bar (docs/backends.md has the table):

    device is a GPU                    -> torch, at the dtype asked for (int8 is CPU-only: an error)
    dtype bfloat16 / float16           -> torch (ONNX Runtime's CPU kernels have no bf16 MatMul)
    dtype float32, on the CPU          -> torch (ONNX Runtime float32 was not faster on an AVX-512 CPU:
                                          mpnet 0.83-0.88x torch, minilm 0.90-1.11x, i.e. noise)
    dtype int8, on the CPU             -> onnx (the measured int8 recipe)

`auto` never changes the precision asked for: int8 without onnxruntime, or on a GPU, is an error, never a
silent float32. `backend="onnx"` asked for by name never falls back either (missing extra, failed export: errors).

`dtype="auto"` (opt-in; the default stays float32) is resolved first, by `resolve_precision`, into what runs:

    a GPU (with bfloat16 support)      -> bfloat16   (a GPU without it: float32)
    a CPU with amx_bf16 or avx512_bf16 -> bfloat16   (native bfloat16 matmuls)
    any other CPU (e.g. AVX2 only)     -> float32    (bfloat16 there is emulated, slower than float32)
    backend="onnx" asked for by name   -> float32    (ONNX Runtime's CPU kernels have no bfloat16 MatMul)

The backend's `precision`, every result's `precision` and the server's responses carry the resolved name.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from contextvec.errors import OptionError
from contextvec.extras import require_extra
from contextvec.models.backend import DType, TorchBackend
from contextvec.models.contract import BACKENDS, PRECISIONS, Backend, BackendName, Precision, RunPrecision
from contextvec.options import check_choice

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The SIMD features that decide int8 and bf16 speed: avx2, avx512f, avx512_vnni, avx_vnni, avx512_bf16,
    amx_tile, amx_int8, amx_bf16 (whichever /proc/cpuinfo lists; empty where it does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    return frozenset(
        re.findall(r"\b(avx2|avx512f|avx512_vnni|avx_vnni|avx512_bf16|amx_tile|amx_int8|amx_bf16)\b", text)
    )


BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})  # a native bfloat16 matmul: AMX tiles or AVX-512 BF16


def resolve_precision(
    dtype: Precision, *, on_gpu: bool, flags: frozenset[str], gpu_bf16: bool = True, backend: BackendName = "torch"
) -> RunPrecision:
    """What a load runs in: `dtype` itself, or for "auto" the table in the module doc. `flags` are the CPU's
    (`cpu_flags()`), `gpu_bf16` whether the GPU has bfloat16 (`torch.cuda.is_bf16_supported()`)."""
    if dtype != "auto":
        return dtype
    choice: RunPrecision
    if backend == "onnx":
        choice, why = "float32", "backend='onnx' (no bfloat16 kernels in ONNX Runtime on the CPU)"
    elif on_gpu:
        choice, why = ("bfloat16", "a GPU") if gpu_bf16 else ("float32", "a GPU without bfloat16 support")
    elif flags & BF16_FLAGS:
        choice, why = "bfloat16", f"a CPU with {', '.join(sorted(flags & BF16_FLAGS))}"
    else:
        choice, why = "float32", "a CPU without AMX or AVX512-BF16 (bfloat16 would be emulated, slower)"
    logger.info("dtype='auto' runs %s on %s", choice, why)
    return choice


def has_int8_dot() -> bool:
    """Whether the CPU has an int8 dot-product instruction (VNNI or AMX), without which int8 gains little."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


def load_backend(
    model: str,
    *,
    backend: BackendName = "torch",
    dtype: Precision = "float32",
    device: str = "auto",
    max_length: int | None = None,
    fast_path: bool = True,
) -> Backend:
    """Load `model` on the backend asked for (see the module doc for `auto`)."""
    check_choice("backend", backend, BACKENDS)
    check_choice("dtype", dtype, PRECISIONS)
    check_device(device)
    on_gpu = device.startswith("cuda") or (device == "auto" and _cuda_available())
    gpu_bf16 = on_gpu and _cuda_bf16()
    run = resolve_precision(dtype, on_gpu=on_gpu, flags=cpu_flags(), gpu_bf16=gpu_bf16, backend=backend)
    if backend == "auto":
        backend = _auto(run, on_gpu)
    elmo = _elmo_folder(model)
    if backend == "torch":
        if run == "int8":
            raise OptionError(
                "dtype='int8' runs with backend='onnx' (or 'auto') on the CPU; torch runs float32, "
                "bfloat16 and float16."
            )
        if elmo is not None:
            from contextvec.models.elmo_backend import ElmoBackend

            path, model_id = elmo
            return ElmoBackend.load(path, model_id, device=device, dtype=_torch_dtype(run), max_length=max_length)
        return TorchBackend.load(
            model, device=device, dtype=_torch_dtype(run), max_length=max_length, fast_path=fast_path
        )
    if elmo is not None:
        raise OptionError(f"{model!r} is an ELMo folder (contextvec train elmo): it runs with backend='torch' only.")
    if on_gpu and device != "auto":
        raise OptionError(f"backend='onnx' runs on the CPU; device={device!r} needs backend='torch'.")
    return _onnx(model, run, max_length)


def check_device(device: str) -> None:
    """Refuse a device this machine cannot run, before torch fails deep inside with a bare AssertionError."""
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|mps|(cuda|xpu)(:\d+)?", device):
        raise OptionError(
            f"device={device!r} is not valid; choose auto, cpu, cuda or cuda:N (mps on Apple, xpu on Intel GPUs)."
        )
    if device.startswith("cuda"):
        import torch

        if torch.version.cuda is None:
            raise OptionError(
                f"device={device!r}: this torch build has no CUDA support (a CPU-only wheel); use device='cpu' "
                "(or 'auto'), or install a CUDA build of torch."
            )
        count = torch.cuda.device_count()
        index = int(device.partition(":")[2] or 0)
        if index >= count:
            raise OptionError(
                f"device={device!r}: this machine has {count} visible CUDA GPU(s); use device='cpu', 'auto' or "
                f"cuda:0..cuda:{max(count - 1, 0)}."
            )


def _elmo_folder(model: str) -> tuple[str, str] | None:
    """(path, model id) when `model` is a folder written by `contextvec train elmo` (its config.json says so)."""
    from contextvec.models.elmo import MODEL_TYPE, read_model_type
    from contextvec.models.registry import resolve_model

    resolved = resolve_model(model)
    if resolved.source != "hub" and read_model_type(resolved.path) == MODEL_TYPE:
        return resolved.path, resolved.model_id
    return None


def _auto(dtype: RunPrecision, on_gpu: bool) -> BackendName:
    if on_gpu:
        if dtype == "int8":
            raise OptionError("dtype='int8' is CPU-only (ONNX Runtime); on a GPU use bfloat16 or float16.")
        return "torch"
    if dtype in ("bfloat16", "float16", "float32"):
        if dtype == "float32":
            logger.info("backend='auto' runs torch: ONNX Runtime float32 measured no faster (docs/backends.md)")
        return "torch"
    require_extra("onnx", "backend='auto' with dtype='int8'")  # no fallback: it would change the numbers
    if dtype == "int8" and not has_int8_dot():
        logger.warning(
            "backend='auto', dtype='int8': this CPU has no VNNI/AMX int8 dot product, so int8 gains little and "
            "may saturate; running it anyway as asked (measure float32 with backend='onnx' too)."
        )
    return "onnx"


def _onnx(model: str, dtype: RunPrecision, max_length: int | None) -> Backend:
    require_extra("onnx", "backend='onnx'")
    from contextvec.models.onnx_backend import ONNX_PRECISIONS, OnnxBackend

    if dtype not in ONNX_PRECISIONS:
        raise OptionError(
            f"dtype={dtype!r} is not available with backend='onnx' (choose float32 or int8); bfloat16 and "
            "float16 run with backend='torch'."
        )
    source = TorchBackend.load(model, device="cpu", dtype="float32", max_length=max_length, fast_path=False)
    return OnnxBackend(source, dtype, free_source=True)


def _torch_dtype(dtype: RunPrecision) -> DType:
    return "float32" if dtype == "int8" else dtype


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _cuda_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_bf16_supported())
