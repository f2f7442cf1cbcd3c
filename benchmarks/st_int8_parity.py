"""sentence-transformers' own int8 export (`export_dynamic_quantized_onnx_model(..., "avx512_vnni")`) against its
float32 torch model: cosine of each token vector (`output_value="token_embeddings"`, the last layer) on 200 Lee
sentences. Runs in a venv with sentence-transformers[onnx] (optimum-onnx pins transformers < 4.58, so not this
project's venv); give it each model's folder. Writes benchmarks/results/st-int8-parity.json.

    /path/to/st-venv/bin/python benchmarks/st_int8_parity.py minilm=MODEL_DIR mpnet=MODEL_DIR
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from harness import write_result
from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model
from throughput import load_sentences


def main() -> None:
    out = {}
    for name, src in (arg.split("=", 1) for arg in sys.argv[1:]):
        work = str(Path(tempfile.mkdtemp()) / "model")
        shutil.copytree(src, work)
        ref = SentenceTransformer(work, device="cpu")
        export_dynamic_quantized_onnx_model(
            SentenceTransformer(work, backend="onnx", device="cpu"), "avx512_vnni", work
        )
        kwargs = {"file_name": "onnx/model_qint8_avx512_vnni.onnx"}
        q = SentenceTransformer(work, backend="onnx", device="cpu", model_kwargs=kwargs)
        sentences = load_sentences(200)
        a = ref.encode(sentences, output_value="token_embeddings")
        b = q.encode(sentences, output_value="token_embeddings")
        pairs = zip(a, b, strict=True)
        cos = np.concatenate([((x * y).sum(-1) / x.norm(dim=-1) / y.norm(dim=-1)).numpy() for x, y in pairs])
        out[name] = {"cos_mean": float(cos.mean()), "cos_min": float(cos.min()), "tokens": int(cos.size)}
        print(name, out[name], flush=True)
    write_result("st-int8-parity.json", out)


if __name__ == "__main__":
    main()
