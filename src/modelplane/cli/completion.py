"""``modelplane completion SHELL``: print the script that makes a shell complete modelplane.

It is click's own completion: the same script as ``_MODELPLANE_COMPLETE=bash_source modelplane``.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from modelplane.cli import output

__all__ = ["completion"]


@click.command()
@click.argument("shell", type=click.Choice(["bash", "fish", "zsh"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    Load it in the current shell with eval "$(modelplane completion bash)", or
    for good by adding that line to ~/.bashrc (zsh: ~/.zshrc; fish:
    modelplane completion fish > ~/.config/fish/completions/modelplane.fish).
    """
    root = click.get_current_context().find_root().command
    completer_class = get_completion_class(shell)
    assert completer_class is not None  # the choice offers only shells click supports
    output.text(completer_class(root, {}, "modelplane", "_MODELPLANE_COMPLETE").source())
