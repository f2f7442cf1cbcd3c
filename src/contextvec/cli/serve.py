"""`contextvec serve`: its flags are generated from `ServerSettings`, so every setting is a flag, an environment
variable (CONTEXTVEC_*) and a field of one class, with one default, one description and one validation."""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import threading
import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from contextvec.cli.common import err, escape, fail
from contextvec.errors import ContextvecError, OptionError

# flags whose name is not the field's: a repeatable flag reads better in the singular
_FLAG_NAMES = {"models": "--model", "cors_origins": "--cors-origin", "image_models": "--image-model"}


_METAVARS: dict[Any, str] = {bool: "", int: "INTEGER", float: "NUMBER", list[str]: "TEXT"}


def _flag_type(annotation: Any) -> Any:
    """The type a flag parses into (None = not given); pydantic validates the value afterwards."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if typing.get_origin(annotation) is list:
        return list[str]
    return annotation


def _fields() -> dict[str, Any]:
    """Every setting of the server, then of its Ray Serve deployment (`--ray`), by field name."""
    from contextvec.serve.ray_deploy import RayServeSettings
    from contextvec.serve.settings import ServerSettings

    return {**ServerSettings.model_fields, **RayServeSettings.model_fields}


def _parameters() -> list[inspect.Parameter]:
    ray_option = typer.Option(
        "--ray/--no-ray",
        envvar="CONTEXTVEC_RAY",
        show_envvar=False,
        help="serve as a Ray Serve deployment: replicas on this machine or a cluster, the --*-replicas and "
        "--replica-* flags below (docs/scale.md) (env CONTEXTVEC_RAY; default: off)",
        show_default=False,
    )
    params = [
        inspect.Parameter("ray", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, ray_option])
    ]
    for name, field in _fields().items():
        kind = _flag_type(field.annotation)
        flag = _FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
        decls = [f"{flag}/--no-{flag[2:]}"] if kind is bool else [flag]
        if name == "models":
            decls.append("-m")
        default = ",".join(field.default) if isinstance(field.default, list) else field.default
        default = "none" if default in (None, "") else default
        help_text = f"{field.description} (env CONTEXTVEC_{name.upper()}; default: {default})"
        option = typer.Option(*decls, help=help_text, show_default=False, metavar=_METAVARS.get(kind, "TEXT"))
        annotation = Annotated[kind | None, option]  # type: ignore[valid-type]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    return params


def _check_bind(host: str, port: int) -> None:
    """Fail before loading models or printing anything if the address cannot be bound (e.g. port in use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
    except OSError as exc:
        raise OptionError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host."
        ) from None


def _server_class() -> type:
    import uvicorn

    class DrainingServer(uvicorn.Server):  # type: ignore[misc]
        """uvicorn re-raises SIGTERM after its graceful shutdown (exit status 143); a drained stop is a success."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]

    return DrainingServer


def serve(**flags: Any) -> None:
    """Serve token, word, span and sentence vectors over HTTP (flags override CONTEXTVEC_* variables)."""
    from contextvec.serve import require_server_extra

    try:
        require_server_extra()
    except ContextvecError as exc:
        raise fail(exc) from None
    import uvicorn
    from pydantic import ValidationError

    from contextvec.serve.app import create_app
    from contextvec.serve.ray_deploy import RayServeSettings
    from contextvec.serve.settings import ServerSettings

    on_ray = bool(flags.pop("ray", False))
    given = {k: v for k, v in flags.items() if v is not None}
    ray_flags = {k: given.pop(k) for k in list(given) if k in RayServeSettings.model_fields}
    if ray_flags and not on_ray:
        names = ", ".join("--" + k.replace("_", "-") for k in ray_flags)
        raise fail(OptionError(f"{names} only apply to a Ray Serve deployment; add --ray (docs/scale.md)."))
    try:
        settings = ServerSettings(**given)  # + CONTEXTVEC_* variables
        ray_settings = RayServeSettings(**ray_flags) if on_ray else None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = escape(str(first["loc"][0])) if first["loc"] else "values"
        msg = escape(str(first["msg"]))
        err.print(f"[bold red]error:[/] setting {where}: {msg}", markup=True, highlight=False)
        raise typer.Exit(code=2) from None
    if ray_settings is not None:
        _serve_on_ray(settings, ray_settings)
        return
    try:
        _check_bind(settings.host, settings.port)
        application = create_app(settings)
        if settings.ui:
            from contextvec.explore import mount_explorer

            mount_explorer(application)
    except ContextvecError as exc:
        raise fail(exc) from None
    config = uvicorn.Config(
        application, host=settings.host, port=settings.port, timeout_graceful_shutdown=30, log_level="warning"
    )
    err.print(f"serving {', '.join(settings.models)} on http://{settings.host}:{settings.port}", markup=False)
    if settings.ui:
        err.print(f"explorer: http://{settings.host}:{settings.port}/explore", markup=False)
    _server_class()(config).run()


def _serve_on_ray(settings: Any, ray_settings: Any) -> None:
    """Deploy on Ray Serve (each replica runs the app), wait for Ctrl-C or SIGTERM, then delete the deployment."""
    from contextvec.serve import ray_deploy

    extensions = []
    if settings.ui:
        from contextvec.explore import mount_explorer

        extensions.append(mount_explorer)
    try:
        ray_deploy.require_ray_serve()
        if ray_settings.ray_address is None and "RAY_ADDRESS" not in os.environ:  # a local Ray: the port is ours
            _check_bind(settings.host, settings.port)
    except ContextvecError as exc:
        raise fail(exc) from None
    import ray

    err.print(f"deploying {', '.join(settings.models)} on Ray Serve ({_replicas(ray_settings)})", markup=False)
    with _stop_signals() as stopping:  # a stop during the deployment is kept, and honoured once it is up
        try:
            url = ray_deploy.run(settings, ray_settings, extensions=extensions)
            err.print(f"serving {', '.join(settings.models)} on {url} (Ray Serve; Ctrl-C stops)", markup=False)
            if settings.ui:
                err.print(f"explorer: {url}/explore", markup=False)
            while not stopping.wait(0.5):
                pass
        except ContextvecError as exc:
            raise fail(exc) from None
        except Exception as exc:  # Ray reports a replica that could not start (a bad model, no resources) here
            raise fail(ContextvecError(f"Ray Serve could not deploy contextvec: {exc}")) from None
        finally:
            if ray.is_initialized():
                with contextlib.suppress(Exception):  # nothing to delete when the deployment never started
                    ray_deploy.stop()
                ray.shutdown()  # a local Ray started by run() goes with it; a cluster keeps running


@contextlib.contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event that Ctrl-C or SIGTERM sets while inside; the handlers before are restored on the way out."""
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _replicas(ray_settings: Any) -> str:
    if ray_settings.autoscaling:
        return f"{ray_settings.min_replicas} to {ray_settings.max_replicas} replicas"
    return f"{ray_settings.min_replicas} replica{'s' if ray_settings.min_replicas != 1 else ''}"


def serve_command() -> tuple[Callable[..., None], dict[str, Any]]:
    """`serve` with one keyword parameter per ServerSettings field, for Typer to turn into flags, and the command's
    context settings. Without the [server] extra the flags cannot be generated: `serve` then takes any flags and
    says which pip command installs the server (every other command keeps working)."""
    from contextvec.serve import require_server_extra

    try:
        require_server_extra()
    except ContextvecError as exc:
        missing = exc

        def serve_without_extra(ctx: typer.Context) -> None:
            """Serve vectors over HTTP (needs the [server] extra)."""
            raise fail(missing)

        return serve_without_extra, {"ignore_unknown_options": True, "allow_extra_args": True}
    serve.__signature__ = inspect.Signature(_parameters(), return_annotation=None)  # type: ignore[attr-defined]
    serve.__annotations__ = {p.name: p.annotation for p in _parameters()} | {"return": None}
    return serve, {}
