"""Images: a tiny ViT built in code. Shapes, pixel boxes that tile each image, layer 0 against the projection and
position computed by hand, a folder round-trip, masked-patch training (loss falls, seeded, resumable), the CLI,
and bad input that ends in a ContextvecError."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from typer.testing import CliRunner

from contextvec.cli.main import app
from contextvec.errors import ContextvecError, InvalidInputError, LayerError, ModelLoadError, OptionError
from contextvec.models.reference.vit import ViT, ViTConfig, patchify, save_vit, unpatchify
from contextvec.train import LoopConfig, NetConfig, train
from contextvec.vision import PatchEmbedder

MEAN, STD = 0.3, 0.2


def _tiny(tmp: Path, name: str = "vit", **kw: object) -> Path:
    base: dict[str, object] = {
        "patch": 2, "channels": 1, "grid": (4, 4), "dim": 16, "n_layers": 2, "n_heads": 2, "mlp_dim": 32,
        "pixel_mean": (MEAN,), "pixel_std": (STD,),
    }  # fmt: skip
    base.update(kw)
    cfg = ViTConfig(**base)  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(7)
    model = ViT(cfg)
    with torch.no_grad():  # weights far from their tiny init, so every term shows in the vectors
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    save_vit(model, tmp / name)
    return tmp / name


@pytest.fixture(scope="module")
def gray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny(tmp_path_factory.mktemp("vit"))


def _images(*shapes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random(s).astype(np.float32) for s in shapes]


def test_shapes_and_layer_selection(gray: Path) -> None:
    emb = PatchEmbedder(gray)
    imgs = _images((8, 8), (7, 5))
    top = emb.embed_patches(imgs)
    assert top.vectors.shape == (16 + 4 * 3, 16) and top.vectors.dtype == np.float32
    assert top.layers == "layers=2 pooling=mean"
    every = emb.embed_patches(imgs, layers="all", layer_pooling="concat")
    assert every.vectors.shape == (28, 3 * 16) and every.layers == "layers=0,1,2 pooling=concat"
    np.testing.assert_array_equal(every.vectors[:, 32:], top.vectors)  # concat's last block is the top layer
    mixed = emb.embed_patches(imgs, layers=[1, 2], layer_pooling=[0.25, 0.75])
    np.testing.assert_allclose(mixed.vectors, 0.25 * every.vectors[:, 16:32] + 0.75 * top.vectors, atol=1e-5)
    pooled = emb.embed_images(imgs, layers=-1)
    np.testing.assert_allclose(pooled.vectors[0], top.vectors[:16].mean(axis=0), atol=1e-5)
    area = (top.height * top.width)[16:].astype(np.float64)  # the 7 x 5 image: edge patches weigh less
    np.testing.assert_allclose(pooled.vectors[1], (top.vectors[16:] * area[:, None]).sum(0) / area.sum(), atol=1e-5)
    table = top.to_arrow()
    assert table.column_names == ["image_index", "image", "top", "left", "height", "width", "vector"]
    assert table.schema.metadata[b"contextvec.layers"] == b"layers=2 pooling=mean"


@pytest.mark.parametrize("shape", [(8, 8), (7, 5), (2, 7), (3, 3), (5, 8)])
def test_pixel_boxes_tile_each_image_exactly(gray: Path, shape: tuple[int, int]) -> None:
    rows = PatchEmbedder(gray).embed_patches([np.zeros((8, 8), np.float32), np.zeros(shape, np.float32)])
    sel = rows.rows_of(1)
    cover = np.zeros(shape, dtype=int)
    for k in sel:
        assert rows.height[k] >= 1 and rows.width[k] >= 1
        cover[rows.top[k] : rows.top[k] + rows.height[k], rows.left[k] : rows.left[k] + rows.width[k]] += 1
    assert (cover == 1).all()  # every pixel in exactly one box, none outside the image
    assert list(zip(rows.top[sel], rows.left[sel], strict=True)) == sorted(
        zip(rows.top[sel], rows.left[sel], strict=True)
    )


def _sincos(r: int, c: int, dim: int) -> np.ndarray:
    q = dim // 4
    f = [10000 ** (-k / q) for k in range(q)]
    row = [math.sin(r * x) for x in f] + [math.cos(r * x) for x in f]
    col = [math.sin(c * x) for x in f] + [math.cos(c * x) for x in f]
    return np.asarray(row + col)


@pytest.mark.parametrize(
    ("channels", "positions", "shape"), [(1, "learned", (7, 5)), (3, "learned", (6, 8, 3)), (1, "sincos", (9, 4))]
)
def test_layer0_is_projection_plus_position_by_hand(
    tmp_path: Path, channels: int, positions: str, shape: tuple[int, ...]
) -> None:
    mean, std = (0.3, 0.5, 0.1)[:channels], (0.2, 0.25, 0.4)[:channels]
    folder = _tiny(tmp_path, channels=channels, positions=positions, pixel_mean=mean, pixel_std=std, grid=(5, 4))
    weights = {k: v.double().numpy() for k, v in load_file(str(folder / "model.safetensors")).items()}
    (img,) = _images(shape, seed=3)
    rows = PatchEmbedder(folder).embed_patches(img, layers=0)
    pixels = img.reshape(*shape[:2], channels).astype(np.float64)
    for k in range(len(rows)):
        t, le, h, w = (int(a[k]) for a in (rows.top, rows.left, rows.height, rows.width))
        block = np.zeros((2, 2, channels))  # the pad beyond the image is the mean pixel: 0 once normalised
        block[:h, :w] = (pixels[t : t + h, le : le + w] - np.asarray(mean)) / np.asarray(std)
        pos = weights["pos_emb"][t // 2, le // 2] if positions == "learned" else _sincos(t // 2, le // 2, 16)
        expected = weights["proj.weight"] @ block.reshape(-1) + weights["proj.bias"] + pos
        np.testing.assert_allclose(rows.vectors[k], expected, rtol=1e-4, atol=1e-4)


def test_patchify_round_trips() -> None:
    x = torch.arange(2 * 6 * 4 * 3, dtype=torch.float32).reshape(2, 6, 4, 3)
    p = patchify(x, 2)
    assert p.shape == (2, 6, 12)
    np.testing.assert_array_equal(p[0, 1].numpy(), x[0, 0:2, 2:4].reshape(-1).numpy())  # patch (0, 1)
    np.testing.assert_array_equal(unpatchify(p, 2, (3, 2)).numpy(), x.numpy())


def test_folder_round_trip_gives_identical_vectors(gray: Path, tmp_path: Path) -> None:
    imgs = _images((8, 8), (6, 4), seed=5)
    first = PatchEmbedder(gray)
    save_vit(first.model, tmp_path / "again")
    second = PatchEmbedder(tmp_path / "again")
    a, b = first.embed_patches(imgs, layers="all"), second.embed_patches(imgs, layers="all")
    np.testing.assert_array_equal(a.vectors, b.vectors)
    with torch.no_grad():  # and the folder's vectors are the in-memory model's
        direct = first.model(torch.from_numpy((imgs[0][..., None] - MEAN) / STD)[None]).hidden_states[-1][0]
    np.testing.assert_allclose(first.embed_patches(imgs[0]).vectors, direct.numpy(), atol=1e-6)


def test_images_from_files_pil_and_arrays_agree(gray: Path, tmp_path: Path) -> None:
    arr = (np.random.default_rng(1).random((8, 6)) * 255).astype(np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    emb = PatchEmbedder(gray)
    from_file = emb.embed_patches([str(tmp_path / "a.png")])
    from_pil = emb.embed_patches([Image.fromarray(arr)])
    from_float = emb.embed_patches([arr.astype(np.float32) / 255])
    np.testing.assert_array_equal(from_file.vectors, from_pil.vectors)
    np.testing.assert_allclose(from_file.vectors, from_float.vectors, atol=1e-6)
    assert from_file.images == [str(tmp_path / "a.png")] and from_pil.images == ["image 0"]


def test_attention_rows_sum_to_one(gray: Path) -> None:
    att = PatchEmbedder(gray).attention(_images((6, 8))[0])
    assert att.weights.shape == (2, 2, 12, 12)
    np.testing.assert_allclose(att.weights.sum(-1), 1.0, atol=1e-5)


def test_bad_input_is_a_clear_error(gray: Path, tmp_path: Path) -> None:
    emb = PatchEmbedder(gray)
    (tmp_path / "note.png").write_text("not a picture")
    cases = [
        (np.zeros((8, 8, 3), np.float32), r"image 0 has 3 channel\(s\), this model was trained on 1"),
        (np.zeros((8, 8, 5), np.float32), r"a stack of gray images \(N, H, W\) is passed as list\(arr\)"),
        (np.zeros((1, 8), np.float32), r"1 x 8 pixels, smaller than one 2 x 2 patch"),
        (str(tmp_path / "note.png"), r"not an image Pillow can read"),
        (str(tmp_path / "missing.png"), r"is not a file"),
        (np.full((4, 4), 2.0, np.float32), r"must lie in \[0, 1\], these span \[2, 2\]"),
        (np.zeros((4, 4), np.int64), r"dtype int64 have no known range"),
        (np.zeros(8, np.float32), r"not an image; give \(H, W\)"),
        (np.zeros((20, 4), np.float32), r"10 x 2 patches exceeds this model's learned position table of 4 x 4"),
        ("text", r"is not a file"),
        (3.5, r"a float is not an image"),
    ]
    for image, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            emb.embed_patches([image])
    with pytest.raises(LayerError, match="layer 3 does not exist"):
        emb.embed_patches(np.zeros((4, 4), np.float32), layers=3)
    with pytest.raises(OptionError, match="unknown option"):
        emb.embed_patches(np.zeros((4, 4), np.float32), layer=1)  # type: ignore[call-arg]
    with pytest.raises(ModelLoadError, match="no config.json"):
        PatchEmbedder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError, match="not a contextvec image model"):
        PatchEmbedder(tmp_path)
    rgba = Image.new("RGBA", (4, 4))
    with pytest.raises(ContextvecError, match="flatten it to RGB"):
        emb.embed_patches([rgba])


# -- training ------------------------------------------------------------------------------------------------------
NET = NetConfig(dim=16, hidden=32, num_layers=2, heads=2, patch=2, dropout=0.0)


def _loop(**kw: object) -> LoopConfig:
    base = {"steps": 40, "batch_size": 16, "lr": 1e-2, "warmup": 3, "checkpoint_every": 10, "log_every": 5}
    return LoopConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 8 x 8 images: one fixed pattern of diagonal bars at one of four brightnesses. A hidden patch follows from
    any visible one (the context), which the mean patch cannot know; the same content recurs across images."""
    rng = np.random.default_rng(0)
    pattern = (np.add.outer(np.arange(8), np.arange(8)) % 3 == 0).astype(np.float64)  # (8, 8) diagonal bars
    levels = rng.integers(1, 5, size=120)  # (120,)
    imgs = (levels[:, None, None] * 63 * pattern[None]).astype(np.uint8)  # (120, 8, 8)
    path = tmp_path_factory.mktemp("bars") / "bars.npy"
    np.save(path, imgs)
    return path


def test_training_loss_falls_and_the_folder_embeds(bars: Path, tmp_path: Path) -> None:
    result = train("vit", bars, tmp_path / "m", net=NET, loop=_loop())
    log = [json.loads(line) for line in (tmp_path / "m" / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["loss"] < 0.7 * log[0]["loss"], [r["loss"] for r in log]
    assert set(result.heldout) >= {"masked_mse", "mean_patch_mse", "position_mean_mse", "hidden_patches"}
    assert result.heldout["hidden_patches"] == 12 * 8  # 12 held-out images, half of their 16 patches
    rows = PatchEmbedder(result.folder).embed_patches(list(np.load(bars)[:2]))
    assert rows.vectors.shape == (32, 16)


def test_training_is_seeded_and_resumes_to_the_same_weights(bars: Path, tmp_path: Path) -> None:
    straight = train("vit", bars, tmp_path / "a", net=NET, loop=_loop(steps=20))
    train("vit", bars, tmp_path / "b", net=NET, loop=_loop(steps=10))
    resumed = train("vit", bars, tmp_path / "b", loop=_loop(steps=20), resume=True)
    assert resumed.steps == 20
    a = load_file(str(straight.folder / "model.safetensors"))
    b = load_file(str(resumed.folder / "model.safetensors"))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_cli_trains_embeds_and_plots(bars: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    model = tmp_path / "m"
    args = ["train", "vit", str(bars), "--out", str(model), "--steps", "10", "--batch-size", "8", "--dim", "16"]
    result = runner.invoke(app, [*args, "--num-layers", "1"])
    assert result.exit_code == 0, result.output
    assert "held-out masked-patch error" in result.output
    foreign = ["train", "vit", str(bars), "--out", str(tmp_path / "x"), "--steps", "1", "--seq-len", "9"]
    bad = runner.invoke(app, foreign)
    assert bad.exit_code == 2 and "--seq-len: not an option of vit" in bad.output
    pngs = []
    for i, img in enumerate(np.load(bars)[:2]):
        Image.fromarray(img).save(tmp_path / f"{i}.png")
        pngs.append(str(tmp_path / f"{i}.png"))
    out = tmp_path / "patches.parquet"
    result = runner.invoke(app, ["embed-images", *pngs, "--model", str(model), "--out", str(out), "--layers", "0"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 32 and table.column("image").to_pylist()[16] == pngs[1]
    vectors = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
    np.testing.assert_array_equal(vectors, PatchEmbedder(model).embed_patches(pngs, layers=0).vectors)
    not_image = ["embed-images", str(out), "--model", str(model), "--out", str(tmp_path / "y.parquet")]
    wrong = runner.invoke(app, not_image)
    assert wrong.exit_code == 2 and "not an image Pillow can read" in wrong.output
    picture = tmp_path / "patches.png"
    result = runner.invoke(
        app, ["plot", "patches", "--model", str(model), "--images", str(bars), "--out", str(picture)]
    )
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_named_image_sets() -> None:
    from contextvec.data.images import load_images

    digits = load_images("digits")
    assert digits.train.shape == (1618, 8, 8, 1) and digits.heldout.shape == (179, 8, 8, 1)
    assert digits.train.max() == 1.0 and digits.train_labels is not None and set(digits.train_labels) == set(range(10))
    photos = load_images("photos")
    assert photos.shape == (16, 16, 3) and len(photos.train) + len(photos.heldout) == 520
    with pytest.raises(OptionError, match="give 'digits', 'photos', a folder"):
        load_images("nonsense")


def test_the_text_embedder_refuses_an_image_model(gray: Path) -> None:
    from contextvec import Embedder

    with pytest.raises(ModelLoadError, match="holds an image model .* use contextvec.vision.PatchEmbedder"):
        Embedder(str(gray))
