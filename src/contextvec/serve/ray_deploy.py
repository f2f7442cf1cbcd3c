"""Scale-out: the same app as a Ray Serve deployment. Each replica builds its own `create_app(settings)` (its own
model, scheduler, limits and metrics); Ray Serve's proxy spreads requests over the replicas and its autoscaler adds
or removes replicas between `min_replicas` and `max_replicas`. Needs `pip install "contextvec[ray]"`.

From Python (a local Ray, or the cluster `ray_address` / $RAY_ADDRESS names):

    from contextvec.serve.ray_deploy import RayServeSettings, run
    from contextvec.serve.settings import ServerSettings
    url = run(ServerSettings(models=["minilm"]), RayServeSettings(min_replicas=2, max_replicas=8))

With Ray's own tools: `build_app(...)` is the application for `ray.serve.run`, and `app_builder` the import path
for `serve run contextvec.serve.ray_deploy:app_builder models=minilm max_replicas=4` (docs/scale.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contextvec.errors import MissingExtraError, OptionError
from contextvec.extras import install_command, require_extra
from contextvec.serve.settings import ServerSettings

APP_NAME = "contextvec"  # the Ray Serve application name; `stop()` deletes only this one
REPLICA_HEADER = "x-contextvec-replica"  # every response names the replica that answered it

Extension = Callable[[FastAPI], object]  # adds routes to a replica's app after create_app (e.g. the explorer)


class RayServeSettings(BaseSettings):
    """How many replicas, where, and when Ray Serve adds or removes them. Every field is a `contextvec serve --ray`
    flag and a CONTEXTVEC_* variable; the names are Ray Serve's own (its autoscaling guide explains them)."""

    model_config = SettingsConfigDict(env_prefix="CONTEXTVEC_", extra="forbid")

    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join, e.g. HEAD_IP:6379 (default: $RAY_ADDRESS, else the one `ray start` "
        "runs on this machine, else a new local Ray)",
    )
    min_replicas: int = Field(default=1, ge=0, description="replicas kept running (0: scale to zero when idle)")
    max_replicas: int = Field(default=1, ge=1, description="replicas at most (equal to min_replicas: no autoscaling)")
    # A replica's scheduler coalesces the requests it holds into shared forward passes, so it wants many in flight:
    # Ray's defaults (at most 5 ongoing, scale up above 2) would cap every batch at 5 one-sentence requests.
    target_ongoing_requests: float = Field(
        default=16.0, gt=0, description="requests in flight per replica the autoscaler aims for"
    )
    max_ongoing_requests: int = Field(
        default=64, ge=1, description="requests one replica holds at most; more wait in Ray Serve's router"
    )
    upscale_delay_s: float = Field(default=30.0, ge=0, description="seconds of high load before adding a replica")
    downscale_delay_s: float = Field(default=600.0, ge=0, description="seconds of low load before removing one")
    replica_cpus: float = Field(default=1.0, gt=0, description="CPUs Ray reserves per replica (torch threads)")
    replica_gpus: float = Field(default=0.0, ge=0, description="GPUs Ray reserves per replica (with --device cuda)")

    @model_validator(mode="after")
    def _consistent(self) -> RayServeSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas})")
        if self.target_ongoing_requests > self.max_ongoing_requests:
            raise ValueError(
                f"target_ongoing_requests ({self.target_ongoing_requests:g}) is above max_ongoing_requests "
                f"({self.max_ongoing_requests}): a replica could never reach the target"
            )
        return self

    @property
    def autoscaling(self) -> bool:
        return self.min_replicas != self.max_replicas

    def deployment_options(self) -> dict[str, Any]:
        """Keyword arguments for `ray.serve.deployment`."""
        options: dict[str, Any] = {
            "max_ongoing_requests": self.max_ongoing_requests,
            "ray_actor_options": {"num_cpus": self.replica_cpus, "num_gpus": self.replica_gpus},
            # a replica that cannot load its model fails the same way every time: say so after a few tries
            "max_constructor_retry_count": 3,
            # one access-log line per request costs a replica CPU time; the app's /metrics counts requests already
            # (the plain server runs uvicorn without an access log too)
            "logging_config": {"enable_access_log": False},
        }
        if self.autoscaling:
            options["autoscaling_config"] = {
                "min_replicas": self.min_replicas,
                "max_replicas": self.max_replicas,
                "target_ongoing_requests": self.target_ongoing_requests,
                "upscale_delay_s": self.upscale_delay_s,
                "downscale_delay_s": self.downscale_delay_s,
            }
        else:
            options["num_replicas"] = self.min_replicas
        return options


class ReplicaHeader:
    """ASGI middleware: adds `x-contextvec-replica: <id>` to every HTTP response of this replica."""

    def __init__(self, app: Any, replica: str) -> None:
        self.app, self.header = app, (REPLICA_HEADER.encode(), replica.encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_named(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_named)


class ContextvecReplica:
    """One replica: Ray Serve calls `__serve_build_asgi_app__` once the replica's process is up, so each replica
    loads its own model and runs its own scheduler (the batching, limits and metrics of `create_app`)."""

    def __init__(self, settings: ServerSettings, extensions: Sequence[Extension] = ()) -> None:
        self.settings, self.extensions = settings, tuple(extensions)

    def __serve_build_asgi_app__(self) -> FastAPI:
        from ray import serve

        from contextvec.serve.app import create_app

        app = create_app(self.settings)
        for extend in self.extensions:
            extend(app)
        app.add_middleware(ReplicaHeader, replica=serve.get_replica_context().replica_tag)  # type: ignore[arg-type]
        return app


def require_ray_serve() -> None:
    """Raise MissingExtraError (with the pip command) unless Ray Serve imports."""
    _import_serve()


def _import_serve() -> Any:
    require_extra("ray", "serving with Ray")
    try:
        return importlib.import_module("ray.serve")
    except ImportError as exc:  # ray is there but not ray[serve]'s dependencies
        raise MissingExtraError(
            f"serving with Ray needs Ray Serve ({exc}); install it with: {install_command('ray')}"
        ) from None


def build_app(
    settings: ServerSettings | None = None,
    ray_settings: RayServeSettings | None = None,
    *,
    extensions: Sequence[Extension] = (),
) -> Any:
    """The Ray Serve application (`Deployment.bind()`) for `ray.serve.run(app, name=..., route_prefix="/")`.

    `extensions` run on each replica's app after `create_app`; pass importable functions (Ray sends them to the
    replicas by name), e.g. `contextvec.explore.mount_explorer` for the explorer. Models load in the replicas,
    never in the caller.
    """
    serve = _import_serve()
    settings = settings or ServerSettings()
    ray_settings = ray_settings or RayServeSettings()
    deployment = serve.deployment(name="ContextvecReplica", **ray_settings.deployment_options())
    return deployment(serve.ingress()(ContextvecReplica)).bind(settings, tuple(extensions))


def app_builder(args: dict[str, str]) -> Any:
    """For Ray's CLI and config files: `serve run contextvec.serve.ray_deploy:app_builder models=minilm
    max_replicas=4`. Each key is a field of ServerSettings or RayServeSettings (host, port and ray_address are
    Ray's to decide there: `serve run --address`, the config file's http_options)."""
    server_keys, ray_keys = set(ServerSettings.model_fields), set(RayServeSettings.model_fields)
    unknown = sorted(set(args) - server_keys - ray_keys)
    if unknown:
        raise OptionError(
            f"unknown setting(s) {', '.join(unknown)} for contextvec on Ray Serve; valid: "
            f"{', '.join(sorted(server_keys | ray_keys))}."
        )
    try:
        settings = ServerSettings(**{k: v for k, v in args.items() if k in server_keys})  # type: ignore[arg-type]
        ray_settings = RayServeSettings(**{k: v for k, v in args.items() if k in ray_keys})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise OptionError(f"setting {first['loc'][0] if first['loc'] else ''}: {first['msg']}") from None
    return build_app(settings, ray_settings)


def run(
    settings: ServerSettings | None = None,
    ray_settings: RayServeSettings | None = None,
    *,
    extensions: Sequence[Extension] = (),
) -> str:
    """Deploy the app on Ray Serve and return its base URL once every replica is up (Ray Serve's proxy listens on
    settings.host:settings.port). Joins the Ray that is already initialised in this process, else
    `ray_settings.ray_address` / $RAY_ADDRESS, else starts a local one. `stop()` takes it down again."""
    serve = _import_serve()
    import ray

    settings = settings or ServerSettings()
    ray_settings = ray_settings or RayServeSettings()
    if not ray.is_initialized():
        ray.init(address=ray_settings.ray_address)
    serve.start(http_options={"host": settings.host, "port": settings.port})
    serve.run(build_app(settings, ray_settings, extensions=extensions), name=APP_NAME, route_prefix="/")
    return f"http://{settings.host}:{settings.port}"


def stop() -> None:
    """Delete the contextvec application (other Ray Serve applications on the cluster keep running)."""
    serve = _import_serve()
    serve.delete(APP_NAME)
