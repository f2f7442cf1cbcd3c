import inspect

import pytest
from pydantic import ValidationError

from contextvec.cli.serve import serve_command
from contextvec.serve.ray_deploy import RayServeSettings
from contextvec.serve.settings import ServerSettings


def test_every_setting_is_a_serve_flag() -> None:
    params = inspect.signature(serve_command()[0]).parameters
    fields = {**ServerSettings.model_fields, **RayServeSettings.model_fields}
    assert set(params) == set(fields) | {"ray"}  # generated from the settings classes; only the --ray switch by hand
    assert "CONTEXTVEC_RAY" in params["ray"].annotation.__metadata__[0].help
    for name, field in fields.items():
        option = params[name].annotation.__metadata__[0]
        assert field.description and field.description in option.help, name
        assert f"CONTEXTVEC_{name.upper()}" in option.help, name


def test_environment_variables_fill_settings_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTVEC_MODELS", "minilm, mpnet")
    monkeypatch.setenv("CONTEXTVEC_MAX_WAIT_MS", "7.5")
    monkeypatch.setenv("CONTEXTVEC_BATCHING", "false")
    s = ServerSettings(max_wait_ms=2)
    assert s.models == ["minilm", "mpnet"] and s.max_wait_ms == 2 and s.batching is False


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="port"):
        ServerSettings(port=70000)
    with pytest.raises(ValidationError, match="serve at least one model"):
        ServerSettings(models=[])


def test_serve_command_merges_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import contextvec.serve.app as app_module
    from contextvec.cli.main import app

    seen: dict[str, ServerSettings] = {}
    monkeypatch.setattr(app_module, "create_app", lambda settings: seen.setdefault("s", settings))

    class NoServer:
        def __init__(self, config: object) -> None:
            self.config = config

        def run(self) -> None:
            return None

    monkeypatch.setattr("contextvec.cli.serve._server_class", lambda: NoServer)
    monkeypatch.setenv("CONTEXTVEC_MAX_QUEUE_TEXTS", "777")
    monkeypatch.setenv("CONTEXTVEC_PORT", "9999")
    result = CliRunner().invoke(
        app, ["serve", "--model", "minilm", "--model", "mpnet", "--port", "8123", "--no-batching"]
    )
    assert result.exit_code == 0, result.output
    s = seen["s"]
    assert s.models == ["minilm", "mpnet"] and s.port == 8123 and s.max_queue_texts == 777 and not s.batching
    bad = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert bad.exit_code == 2 and "setting port" in bad.output
