"""The machine's matmul rate, as the best kernel here reaches it: torch (oneDNN/MKL) and ONNX Runtime's MLAS, fp32
and int8 (U8S8, the kernel dynamic quantization runs), on a 2048 x 2048 product. "Share of the matmul rate" in
BENCHMARKS.md divides by the best of these for the dtype, not by torch's alone.
"""

from __future__ import annotations

from harness import median_time


def torch_gflops(dtype: str = "float32", size: int = 2048, reps: int = 10) -> float:
    import torch

    a, b = torch.randn(size, size, dtype=getattr(torch, dtype)), torch.randn(size, size, dtype=getattr(torch, dtype))
    return 2 * size**3 / median_time(lambda: torch.mm(a, b), reps) / 1e9


def ort_gflops(int8: bool, size: int = 2048, reps: int = 10) -> float:
    """ONNX Runtime MatMul (fp32) or MatMulInteger (uint8 x int8) on size x size inputs."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    elem_a = TensorProto.UINT8 if int8 else TensorProto.FLOAT
    elem_b = TensorProto.INT8 if int8 else TensorProto.FLOAT
    node = helper.make_node("MatMulInteger" if int8 else "MatMul", ["a", "b"], ["c"])
    graph = helper.make_graph(
        [node],
        "mm",
        [
            helper.make_tensor_value_info("a", elem_a, [size, size]),
            helper.make_tensor_value_info("b", elem_b, [size, size]),
        ],
        [helper.make_tensor_value_info("c", TensorProto.INT32 if int8 else TensorProto.FLOAT, [size, size])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    if int8:
        feeds = {
            "a": rng.integers(0, 255, (size, size), dtype=np.uint8),
            "b": rng.integers(-127, 127, (size, size), dtype=np.int8),
        }
    else:
        feeds = {
            "a": rng.standard_normal((size, size), dtype=np.float32),
            "b": rng.standard_normal((size, size), dtype=np.float32),
        }
    return 2 * size**3 / median_time(lambda: sess.run(None, feeds), reps) / 1e9


def kernel_rates() -> dict[str, float]:
    """GOP/s of each kernel, timed now in this process."""
    rates = {"torch_float32": torch_gflops("float32")}
    try:
        rates["ort_float32"] = ort_gflops(int8=False)
        rates["ort_int8"] = ort_gflops(int8=True)
    except ImportError:
        pass
    return rates
