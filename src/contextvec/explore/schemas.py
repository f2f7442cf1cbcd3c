"""The explorer's request bodies (strict, like the server's own)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contextvec.analysis.occurrences import INFLECT


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class WordsRequest(_Strict):
    text: str


class CompareRequest(_Strict):
    texts: list[str] = Field(min_length=2, description="two or more texts that use the word")
    word: str = Field(min_length=1)
    occurrence: int = Field(1, ge=1)
    model: str | None = None


class PairRequest(_Strict):
    first: str = Field(min_length=1)
    second: str = Field(min_length=1)
    layer: int | None = Field(None, ge=0, description="one layer (0 = embeddings); none: the model's recipe")
    model: str | None = None


class AttentionRequest(_Strict):
    text: str = Field(min_length=1)
    model: str | None = None


class InsideRequest(_Strict):
    text: str = Field(min_length=1)
    word: str = Field(min_length=1, description="a word of the text")
    occurrence: int = Field(1, ge=1)
    model: str | None = None


class SensesRequest(_Strict):
    word: str = Field(min_length=1)
    source: str = Field("corpus", pattern="^(corpus|index)$")
    corpus: list[str] = Field(default_factory=list, description="texts to look for the word in (source=corpus)")
    k: int | None = Field(None, ge=1, le=20, description="number of senses; none: chosen by silhouette")
    max_uses: int = Field(2000, ge=3, le=20000)
    inflect: bool = Field(INFLECT, description="also match the word's -s/-ed/-ing forms (as `contextvec senses`)")
    model: str | None = None


class LabelRequest(_Strict):
    labels: dict[str, str] = Field(description="point index -> sense name, for a few points")


class LayersRequest(_Strict):
    corpus: list[str] = Field(min_length=2)
    models: list[str] | None = None
