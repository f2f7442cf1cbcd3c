import pytest

from contextvec.errors import LayerError, OptionError
from contextvec.options import parse_layers, resolve_layer_selection, strict_options


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (-1, (6,)),
        ("-1", (6,)),
        ("-4:", (3, 4, 5, 6)),
        ("2:5", (2, 3, 4)),
        ("0,6", (0, 6)),
        ("all", (0, 1, 2, 3, 4, 5, 6)),
        ([0, -1], (0, 6)),
        (":2", (0, 1)),
    ],
)
def test_layer_specs_resolve_against_the_model_depth(spec: object, expected: tuple[int, ...]) -> None:
    assert parse_layers(spec, num_layers=6) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (7, "layer 7 does not exist.*valid indices are 0..6"),
        ("-8", "layer -8 does not exist"),
        ("0,12", "layer 12"),
        ("1,1", "names a layer twice"),
        ("x", "not a layer spec"),
        ("", "empty"),
        ("5:2", "selects no layer"),
        ("1:2:3", "one ':'"),
        ([], "selects no layer"),
        (True, "not a layer spec"),
    ],
)
def test_bad_layer_specs_say_what_is_valid(spec: object, message: str) -> None:
    with pytest.raises(LayerError, match=message):
        parse_layers(spec, num_layers=6)  # type: ignore[arg-type]


def test_layer_pooling_weights_must_match_the_layer_count() -> None:
    sel = resolve_layer_selection("-2:", [0.25, 0.75], num_layers=6)
    assert sel.mode == "weights" and sel.weights == (0.25, 0.75) and sel.indices == (5, 6)
    with pytest.raises(OptionError, match="2 weights but.*selects 3 layers"):
        resolve_layer_selection("-3:", [1.0, 2.0], num_layers=6)
    with pytest.raises(OptionError, match="choose one of: mean, sum, concat"):
        resolve_layer_selection(-1, "median", num_layers=6)  # type: ignore[arg-type]
    assert resolve_layer_selection("0,6", "concat", num_layers=6).out_factor == 2


def test_unknown_keyword_arguments_name_the_valid_ones() -> None:
    @strict_options
    def f(x: int, *, alpha: int = 1, beta: int = 2) -> int:
        return x + alpha + beta

    assert f(1, beta=3) == 5
    with pytest.raises(OptionError, match="unknown option\\(s\\) gamma; valid options: x, alpha, beta"):
        f(1, gamma=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([float("nan"), 1.0], "NaN or infinity"),
        ([float("inf"), 1.0], "NaN or infinity"),
        ([1.0, float("-inf")], "NaN or infinity"),
        ([0.0, 0.0], "all zeros"),
    ],
)
def test_layer_pooling_weights_must_be_finite_and_not_all_zero(weights: list[float], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        resolve_layer_selection("-2:", weights, num_layers=6)
