"""Request and response bodies (pydantic). Unknown fields are refused, so typos fail loudly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _json_number(value: object) -> object:
    """Numbers are JSON numbers: `true` is not layer 1 and `"3"` is not 3 (lax pydantic takes both), so the server
    accepts exactly what the schema says (a 422 otherwise)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number, not true/false or a string")
    return value


def _layers(value: object) -> object:
    """`"layers": true` is a 422, not layer 1."""
    if isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool | str) for v in value)):
        raise ValueError("layers is an integer, a string such as '-4:' or a list of integers, not true/false")
    return value


Int = Annotated[int, BeforeValidator(_json_number)]
Float = Annotated[float, BeforeValidator(_json_number)]
LayersField = Annotated[str | int | list[int], BeforeValidator(_layers)]
LayerPooling = str | list[Float]
# a text to embed: at least one character (the server also refuses texts without a visible one: 400)
Text = Annotated[str, Field(min_length=1)]
Encoding = Literal["float", "base64"]
DType = Literal["float32", "float16"]


# -- OpenAI-compatible ----------------------------------------------------------------------------------------------


class OpenAIEmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the official client may send fields we do not use (e.g. "user")

    input: str | list[str] | list[int] | list[list[int]]
    model: str | None = None
    encoding_format: Encoding = "float"
    dimensions: Int | None = None
    user: str | None = None


class OpenAIEmbedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class OpenAIUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class OpenAIEmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIEmbedding]
    model: str
    usage: OpenAIUsage
    precision: str = Field(description="the precision the model ran in (a contextvec addition; clients ignore it)")


# -- contextvec routes ------------------------------------------------------------------------------------------------


LAYERS_HELP = (
    "-1, '-4:', '0,6,12', 'all', or a list of ints; default: the model's recipe (words, tokens, spans: the layers "
    "chosen by contextvec's evaluation; sentences: the top layer). The response's `layers` says which were used."
)


class LevelOptions(Strict):
    model: str | None = Field(default=None, description="a served model name; default: the first one")
    layers: LayersField | None = Field(default=None, description=LAYERS_HELP)
    layer_pooling: LayerPooling = Field(default="mean", description="mean | sum | concat | one weight per layer")
    encoding_format: Encoding = Field(default="float", description="float: JSON numbers; base64: little-endian bytes")
    dtype: DType = Field(default="float32", description="precision of the returned vectors")


class TextsRequest(LevelOptions):
    texts: list[Text] = Field(description="texts to embed", min_length=1)


class WordsRequest(TextsRequest):
    subword_pooling: Literal["first", "last", "first_last", "mean", "max"] = "mean"


class SentencesRequest(TextsRequest):
    pooling: Literal["cls", "mean", "mean_all", "max", "last"] | None = Field(
        default=None, description="default: the model's sentence recipe (minilm, mpnet: sentence-transformers')"
    )
    normalize: StrictBool | None = Field(default=None, description="unit-length vectors; default: the model's recipe")


class SpanItem(Strict):
    text: Text
    start: Int = Field(ge=0, description="character offset of the span's first character")
    end: Int = Field(ge=1, description="character offset just past the span (start < end <= len(text))")


class SpansRequest(LevelOptions):
    spans: list[SpanItem] = Field(min_length=1)
    subword_pooling: Literal["first", "last", "first_last", "mean", "max"] = "mean"


class CompareRequest(Strict):
    model: str | None = None
    texts: list[Text] = Field(min_length=2)
    word: Text = Field(description="the word (or phrase) to compare; it must occur as a whole word in every text")
    occurrence: Int = Field(default=1, ge=1)
    layers: LayersField | None = Field(default=None, description=LAYERS_HELP)
    layer_pooling: LayerPooling = "mean"
    subword_pooling: Literal["first", "last", "first_last", "mean", "max"] = "mean"
    context_only: StrictBool | None = Field(
        default=None, description="subtract the word's out-of-context vector; default: the model's recipe"
    )


class Item(BaseModel):
    start: int
    end: int
    text: str
    vector: list[float] | str


class TextItems(BaseModel):
    index: int
    items: list[Item]


class ItemsResponse(BaseModel):
    model: str
    layers: str
    pooling: str
    dim: int
    precision: str = Field(description="the precision the model ran in (float32, bfloat16, float16, int8)")
    data: list[TextItems]


class VectorsResponse(BaseModel):
    model: str
    layers: str
    pooling: str
    dim: int
    precision: str = Field(description="the precision the model ran in (float32, bfloat16, float16, int8)")
    data: list[Item]


class CompareResponse(BaseModel):
    model: str
    layers: str
    precision: str = Field(description="the precision the model ran in (float32, bfloat16, float16, int8)")
    word: str
    spans: list[list[int]] = Field(description="[start, end] of the word in each text")
    cosine: list[list[float]]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    layers: int
    dim: int
    max_length: int
    causal: bool
    architecture: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    error: ErrorBody
