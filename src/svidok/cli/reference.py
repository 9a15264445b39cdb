"""The CLI reference (docs/cli.md), generated from the commands' own --help.

Run ``python -m svidok.cli.reference > docs/cli.md``; a test fails when the file
and the commands disagree, so the reference cannot drift.
"""

from __future__ import annotations

import click


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


def cli_reference() -> str:
    from svidok.cli import cli

    parts = [
        "# `svidok` command reference",
        "",
        "Generated from `--help` by `python -m svidok.cli.reference`; do not edit by hand.",
        "",
    ]
    for path, command in _walk(cli, ["svidok"]):
        name = " ".join(path)
        with click.Context(command, info_name=name, terminal_width=100,
                           max_content_width=100) as ctx:
            text = command.get_help(ctx)
        parts += [f"## `{name}`", "", "```", text, "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
