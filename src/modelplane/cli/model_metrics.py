"""``modelplane model version metrics``: the metric series logged to a version (``log_metrics``)."""

from __future__ import annotations

from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.options import output_option
from modelplane.cli.output import Column

__all__ = ["metrics"]

_PAGE = 10_000


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.6g}"


SERIES_COLUMNS = (
    Column("KEY", "key", max_width=60),
    Column("POINTS", "count"),
    Column("LAST", "last", _number),
    Column("AT STEP", "last_step"),
    Column("MIN", "min", _number),
    Column("MAX", "max", _number),
)


def _history(client: Any, model_name: str, version_spec: str, key: str) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    while True:
        page = client.get_metric_history(model_name, version_spec, key, limit=_PAGE, offset=len(points))
        points += [
            {"step": p.step, "value": p.value, "created": output.to_json(p)["created"], "run_id": p.run_id}
            for p in page
        ]
        if not page.items or len(points) >= page.total:
            return points


@click.command()
@click.argument("model_name", metavar="NAME")
@click.argument("version_spec", metavar="VERSION")
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@output_option
def metrics(model_name: str, version_spec: str, keys: tuple[str, ...], fmt: str) -> None:
    """Show the metric series of a version: points, last, min and max per key.

    With KEYs, only those series; with -o json, every point of them too (step, value, time, run).
    """
    client = session.client()
    series = [output.to_json(s) for s in client.list_metric_series(model_name, version_spec)]
    if keys:
        known = {s["key"] for s in series}
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise click.BadParameter(
                f"no series {', '.join(map(repr, unknown))} in this version"
                + (f"; it has {', '.join(sorted(known))}" if known else "; it has none"),
                param_hint="KEY",
            )
        series = [s for s in series if s["key"] in keys]
    if fmt == "json":
        for item in series:
            item["points"] = _history(client, model_name, version_spec, item["key"])
        output.emit_json({"model": model_name, "version": version_spec, "series": series})
        return
    output.listing(
        output.whole_page(series),
        SERIES_COLUMNS,
        fmt=fmt,
        empty=f"No metrics logged to {model_name} {version_spec}: log_metrics() in a step records them.",
    )
