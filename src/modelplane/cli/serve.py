"""``modelplane serve``: an inference service that follows a model's stage."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import click

from modelplane.cli import output
from modelplane.errors import ConfigError, InvalidInputError

__all__ = ["serve"]

_STAGES = ("production", "staging")


def _canary(value: str | None) -> tuple[str, float] | None:
    if value is None:
        return None
    stage, _, share = value.partition("=")
    try:
        percent = float(share)
    except ValueError:
        percent = -1.0
    if stage not in _STAGES or not 0 < percent < 100:
        raise InvalidInputError(
            f"--canary {value!r} cannot be read.",
            hint="Write STAGE=PERCENT with a stage one version holds and a share between 0 and "
            "100, e.g. --canary staging=10.",
        )
    return stage, percent


@click.command()
@click.argument("name")
@click.option(
    "--stage",
    type=click.Choice(_STAGES),
    help="Serve the version holding this stage, and follow it [default: production].",
)
@click.option("--version", "version", type=click.IntRange(min=1), help="Serve this version number only.")
@click.option("--artifact", help="The model artifact link to load, when the version has several.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
    help="Processes answering requests; each follows the stage and is a deployment of its own.",
)
@click.option(
    "--canary",
    metavar="STAGE=PERCENT",
    help="Send PERCENT of requests to the holder of STAGE, e.g. staging=10.",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    help="Cut the canary off when more than this share of its requests fail, e.g. 0.02.",
)
@click.option(
    "--endpoint",
    help="The URL clients use to reach this service, recorded on the deployment "
    "[default: http://HOST:PORT].",
)
@click.option(
    "--poll-seconds", type=click.FloatRange(0.05, 60), default=0.5, show_default=True,
    help="How often to ask the store which version holds the stage.",
)
@click.option(
    "--report-seconds", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
    help="How often to record the deployment's state; silent for three periods, it reads as gone.",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[ADDRESS]",
    help="Run on Ray Serve (a running cluster at ADDRESS, or a local one).",
)
@click.option(
    "--replicas", type=click.IntRange(1, 256), default=1, show_default=True,
    help="Ray Serve replicas (with --ray).",
)
def serve(
    name: str,
    stage: str | None,
    version: int | None,
    artifact: str | None,
    host: str,
    port: int,
    workers: int,
    canary: str | None,
    max_error_rate: float | None,
    endpoint: str | None,
    poll_seconds: float,
    report_seconds: float,
    ray_address: str | None,
    replicas: int,
) -> None:
    """Serve the model version holding a stage over HTTP, and follow the stage.

    Answers POST /invocations in MLflow's scoring protocol (dataframe_split,
    dataframe_records, instances, inputs). A promotion or a rollback is picked up within a
    second or two: the new version is loaded and checked before it is swapped in, and a version
    that fails to load or answer is not swapped in. GET /health, /ready, /version and /metrics
    are for probes and Prometheus. Every process is listed by `modelplane model version
    deployments NAME VERSION`.
    """
    if stage is not None and version is not None:
        raise InvalidInputError(
            "--stage and --version both choose what to serve.",
            hint="Give --stage to follow a stage, or --version N to serve one version.",
        )
    split = _canary(canary)
    if max_error_rate is not None and split is None:
        raise InvalidInputError(
            "--max-error-rate judges a canary, and no --canary was given.",
            hint="Add --canary staging=10, or drop --max-error-rate.",
        )
    if replicas > 1 and ray_address is None:
        raise InvalidInputError("--replicas is for Ray Serve.", hint="Add --ray, or use --workers.")
    if ray_address is not None and workers > 1:
        raise InvalidInputError("--workers is for the local service.", hint="Use --replicas with --ray.")
    following = None if version is not None else (stage or "production")
    if split is not None and split[0] == following:
        raise InvalidInputError(
            f"The canary stage '{split[0]}' is the stage being served.",
            hint="Send the canary share to the other stage, e.g. --canary staging=10.",
        )
    options: dict[str, Any] = {
        "model": name,
        "stage": following,
        "version": version,
        "artifact": artifact,
        "canary_stage": split[0] if split else None,
        "canary_percent": split[1] if split else None,
        "max_error_rate": max_error_rate,
        "poll_seconds": poll_seconds,
        "report_seconds": report_seconds,
        "endpoint": endpoint or _endpoint(host, port),
    }
    _check_model(name)
    if ray_address is not None:
        from modelplane.serving.ray_serve import run_on_ray

        run_on_ray(options, address=ray_address, host=host, port=port, replicas=replicas)
        return
    _run_local(options, host=host, port=port, workers=workers)


def _endpoint(host: str, port: int) -> str:
    shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def _check_model(name: str) -> None:
    """Fail before binding anything when the model does not exist (the error lists models)."""
    from modelplane.cli import session

    session.read("get_model", name)


def _run_local(options: dict[str, Any], *, host: str, port: int, workers: int) -> None:
    try:
        import uvicorn

        from modelplane.serving.app import OPTIONS_ENV, app_from_env
    except ImportError as exc:
        raise ConfigError(
            f"modelplane serve needs the [serve] extra ({exc.name} is missing).",
            hint="pip install 'modelplane[serve]'",
        ) from None
    from modelplane.server.runner import check_port_free

    check_port_free(host, port)
    os.environ[OPTIONS_ENV] = json.dumps(options)
    output.message(
        f"Serving model {options['model']!r} "
        + (f"version {options['version']}" if options["version"] else f"from stage {options['stage']}")
        + f" at {options['endpoint']}",
        err=True,
    )
    if workers == 1:
        uvicorn.run(app_from_env(), host=host, port=port, log_level="info", access_log=False)
    else:
        uvicorn.run(
            "modelplane.serving.app:app_from_env", factory=True, host=host, port=port,
            workers=workers, log_level="info", access_log=False,
        )
