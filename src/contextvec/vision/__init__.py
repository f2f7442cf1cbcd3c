"""Images as contextual embeddings: a vector per image patch, with its pixel box, from a contextvec image model.

    from contextvec.vision import PatchEmbedder
    emb = PatchEmbedder("vit-digits")                 # a folder written by `contextvec train vit`
    rows = emb.embed_patches(images, layers="all", layer_pooling="mean")

The model is the reference transformer's blocks over patches (contextvec.models.reference.vit); docs/images.md
shows what its layers add to the pixel values.
"""

from contextvec.vision.embedder import PatchAttention, PatchEmbedder, PatchGrid, patch_grid
from contextvec.vision.results import ImageEmbeddings, PatchEmbeddings

__all__ = ["ImageEmbeddings", "PatchAttention", "PatchEmbedder", "PatchEmbeddings", "PatchGrid", "patch_grid"]
