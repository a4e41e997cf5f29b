"""Options many commands share (-o/--output, --limit/--page, -y/--yes, durations) and the
confirmation rule."""

from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

import click

from modelplane.cli import output
from modelplane.errors import InvalidInputError

__all__ = ["confirm", "offset_of", "output_option", "paging_options", "seconds_of", "yes_option"]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


def output_option(func: F) -> F:
    return click.option(
        "-o",
        "--output",
        "fmt",
        type=click.Choice(["table", "json"], case_sensitive=False),
        default="table",
        show_default=True,
        help="table for people, json for scripts (shape in docs/cli.md).",
    )(func)


def paging_options(func: F) -> F:
    func = click.option(
        "--page",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Which page of --limit items to show, from 1.",
    )(func)
    return click.option(
        "--limit",
        type=click.IntRange(1, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        show_default=True,
        help="Items per page.",
    )(func)


def offset_of(limit: int, page: int) -> int:
    return (page - 1) * limit


def yes_option(func: F) -> F:
    return click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")(func)


def confirm(question: str, *, yes: bool) -> None:
    """Go on only if ``yes`` or the user answers y on standard input; else stop with exit code 1.

    A closed or empty standard input counts as no, so a script never deletes by accident.
    """
    if yes:
        return
    answer = output.ask(question)
    if answer is None:
        raise InvalidInputError(
            "No answer on standard input, so nothing was changed.",
            hint="Pass -y/--yes to go ahead without a question, or answer y.",
        )
    if not answer:
        output.message("Cancelled; nothing was changed.", err=True)
        raise click.exceptions.Exit(1)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_of(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A click callback: ``90s``, ``30m``, ``1h``, ``2d`` (or plain seconds) as seconds."""
    if value is None:
        return None
    match = _DURATION.fullmatch(value.strip().lower())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a duration; use e.g. 90s, 30m, 1h or 2d.")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
