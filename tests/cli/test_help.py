"""Every command explains itself, and docs/cli.md says what ``--help`` says."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from modelplane._version import __version__
from modelplane.cli import COMMANDS, main
from modelplane.cli.reference import END, command_paths, update_page
from tests.cli.conftest import Cli

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
ALL = [(path, command) for path, command, _ in command_paths(main)]


@pytest.mark.parametrize(
    ("path", "command"), ALL, ids=[" ".join(path[1:]) or "modelplane" for path, _ in ALL]
)
def test_every_command_and_option_has_help_text(
    path: tuple[str, ...], command: click.Command
) -> None:
    assert (command.help or "").strip(), f"`{' '.join(path)}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"`{' '.join(path)} {param.opts[0]}` has no help text"


@pytest.mark.parametrize(
    "path", [p for p, _ in ALL], ids=[" ".join(p[1:]) or "modelplane" for p, _ in ALL]
)
def test_help_runs(cli: Cli, path: tuple[str, ...]) -> None:
    ran = cli(*path[1:], "--help")
    assert ran.exit_code == 0
    assert ran.stdout.startswith(f"Usage: modelplane {' '.join(path[1:])}".rstrip())


def test_the_reference_page_commands_exist() -> None:
    reachable = {" ".join(path[1:]) for path, _ in ALL}
    for spelled in [
        "model list",
        "model version list",
        "model version update",
        "model version runs",
        "model version artifacts",
        "model version data_artifacts",
        "model version model_artifacts",
        "model version model_objects",
        "model version endpoint_artifacts",
        "model version deployments",
        "model update",
        "model register",
        "model delete",
    ]:
        assert spelled in reachable


def test_docs_page_matches_help() -> None:
    page = PAGE.read_text()
    assert update_page(page, main) == page, (
        "docs/cli.md is out of date with --help; "
        "run: python -m modelplane.cli.reference docs/cli.md"
    )
    assert page.rstrip().endswith(END) or END in page


def test_version(cli: Cli) -> None:
    ran = cli("--version")
    assert (ran.exit_code, ran.stdout) == (0, f"modelplane {__version__}\n")


def test_registry_lists_what_is_installed() -> None:
    # Entries whose module does not exist yet are left out instead of breaking --help.
    ctx = click.Context(main)
    listed = main.list_commands(ctx)
    assert [name for name in COMMANDS if name in listed] == listed
    assert {"init", "status", "model", "pipeline", "run", "artifact", "db", "completion"} <= set(
        listed
    )


def test_a_registry_entry_without_a_module_is_skipped() -> None:
    from modelplane.cli.lazy import LazyGroup

    group = LazyGroup(
        name="demo",
        commands_table={
            "model": ("modelplane.cli.model:model", "Models."),
            "ghost": ("modelplane.cli.ghost:ghost", "?"),
        },
    )
    ctx = click.Context(group)
    assert group.list_commands(ctx) == ["model"]
    assert group.get_command(ctx, "ghost") is None
    assert "ghost" not in group.get_help(ctx)


def test_a_command_whose_extra_is_missing_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from modelplane.cli import lazy

    (tmp_path / "mp_needs_extra.py").write_text(
        "import click\nimport mp_absent_dependency\n\n"
        "@click.command()\ndef serve():\n    'Serve.'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(lazy._EXTRA_OF_MODULE, "mp_absent_dependency", "server")
    group = lazy.MainGroup(
        name="demo", commands_table={"serve": ("mp_needs_extra:serve", "Serve.")}
    )
    ran = CliRunner().invoke(group, ["serve"])
    assert ran.exit_code == 1
    assert "The `serve` command needs the Python package 'mp_absent_dependency'" in ran.stderr
    assert "pip install 'modelplane[server]'" in ran.stderr
