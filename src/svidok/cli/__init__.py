"""The ``svidok`` command line: one group, one module per domain."""

from __future__ import annotations

import sys

import click

from svidok import __version__
from svidok.cli import evidence, geo, incidents, instance, items, log, media, text, users
from svidok.cli.base import run_guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="svidok")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=str),
    envvar="SVIDOK_HOME",
    help="Instance folder (default: $SVIDOK_HOME, else ./svidok-data).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Svidok: preserve, verify and prove evidence of atrocity crimes.

    Start with `svidok init`, then `svidok ingest FILES --collection NAME`,
    and check everything at any time with `svidok verify`.
    """
    ctx.obj = {"home": home}


for module in (instance, evidence, items, log, users, media, text, geo, incidents):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    sys.exit(run_guarded(cli))
