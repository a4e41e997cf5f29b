"""Click groups that import their subcommands on first use, and the CLI's one error boundary."""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import sys
import traceback
from typing import Any, Mapping

import click

from modelplane.cli import output
from modelplane.errors import ConfigError, ModelplaneError

__all__ = ["LazyGroup", "MainGroup", "OrderedGroup"]

# Third-party modules that come with an extra: a command failing to import one of them tells the
# user which extra to install instead of printing an ImportError.
_EXTRA_OF_MODULE = {
    "fastapi": "server",
    "fastapi_offline": "server",
    "starlette": "server",
    "uvicorn": "server",
    "httptools": "server",
    "httpx": "client",
    "psycopg": "postgres",
    "pymysql": "mysql",
    "ray": "ray",
    "s3fs": "s3",
}


def _module_exists(path: str) -> bool:
    module = path.partition(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _missing_package(exc: ImportError, command: str, *, known_only: bool) -> ConfigError | None:
    """What to tell the user when ``command`` failed to import a package; ``None`` when the failed
    import is modelplane's own (a bug), or, with ``known_only``, a package of no extra."""
    missing = (exc.name or "").partition(".")[0]
    if missing in ("", "modelplane"):
        return None
    extra = _EXTRA_OF_MODULE.get(missing)
    if extra is None and known_only:
        return None
    return ConfigError(
        f"{command} needs the Python package {missing!r}, which is not installed.",
        hint=f"Install it with: pip install 'modelplane[{extra}]'"
        if extra
        else f"Install it with: pip install {missing}",
    )


def _load(name: str, path: str) -> click.Command:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        error = _missing_package(exc, f"The `{name}` command", known_only=False)
        if error is None:
            raise  # a bug in modelplane, not a missing dependency
        raise error from exc
    command = getattr(module, attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{path} is not a click command")
    return command


def _silence_stdout() -> None:
    # Python flushes stdout again at exit, which would fail on the closed pipe a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


class OrderedGroup(click.Group):
    """A group that lists its commands in the order they were added, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


class LazyGroup(click.Group):
    """A group whose commands come from a ``{name: ("module:attribute", short help)}`` table."""

    def __init__(
        self, *args: Any, commands_table: Mapping[str, tuple[str, str]] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.commands_table = dict(commands_table or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, (path, _) in self.commands_table.items() if _module_exists(path)]
        return lazy + sorted(name for name in self.commands if name not in self.commands_table)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self.commands_table.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        command = _load(cmd_name, entry[0])
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The short help comes from the table, so listing commands imports none of them.
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands_table:
                rows.append((name, self.commands_table[name][1]))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class MainGroup(LazyGroup):
    """The root group: turns modelplane errors into ``Error: …`` on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()  # the reader went away (`modelplane run logs X | head`): stop quietly
        except Exception as exc:
            details = traceback.format_exc() if ctx.params.get("debug") else None
            message, hint = _explained(exc, details is not None)
            output.error(message, hint=hint, details=details)
        ctx.exit(1)


def _explained(exc: Exception, with_traceback: bool) -> tuple[str, str | None]:
    """The message and hint the CLI prints for an error a command raised."""
    if isinstance(exc, ModuleNotFoundError):
        # Commands import optional packages when they run (`server start` needs starlette); an
        # ImportError of a package that is there (a version without a name) is not reported so.
        missing = _missing_package(exc, "This command", known_only=True)
        if missing is not None:
            exc = missing
    if isinstance(exc, ModelplaneError):
        return exc.message, exc.hint
    if isinstance(exc, OSError):  # a path in the settings that cannot be used
        where = f": {exc.filename}" if exc.filename else ""
        return (
            f"{exc.strerror or exc}{where}",
            "Check the store and artifact locations; `modelplane status` shows them.",
        )
    return (
        f"Unexpected {type(exc).__name__}: {exc}",
        None if with_traceback else "Run the command again with --debug to see the traceback.",
    )
