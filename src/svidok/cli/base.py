"""What every command shares: Django start-up, the actor, JSON output, errors."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from typing import Any

import click

from svidok.core.errors import SvidokError
from svidok.instance import HOME_ENV, resolve_home

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
actor_option = click.option(
    "--actor",
    envvar="SVIDOK_ACTOR",
    help="Who is acting, as recorded in the custody log (default: cli:USER@HOST).",
)


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}@{socket.gethostname()}"


def setup_django(ctx: click.Context, *, require_instance: bool = True) -> None:
    """Point Django at the chosen instance and start it."""
    home = resolve_home((ctx.find_root().obj or {}).get("home"))
    os.environ[HOME_ENV] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svidok.settings")
    if require_instance and not home.is_dir():
        raise SvidokError(f"no instance at {home}: run `svidok init` first (or pass --home)")
    import django

    django.setup()


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))


def run_guarded(command: click.Group) -> int:
    """Run the CLI; a SvidokError becomes a clear message and exit status 2."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        returned = command.main(standalone_mode=False)
    except SvidokError as exc:
        click.echo(f"error: {exc.diagnostics()}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        if _missing_table(exc):
            # An instance made by an older Svidok: its database lacks newer tables.
            click.echo("error: the instance's database is older than this version of Svidok "
                       f"({exc}); run `svidok init` to upgrade it (it changes nothing else)",
                       err=True)
            return 2
        raise
    return returned if isinstance(returned, int) else 0


def _missing_table(exc: Exception) -> bool:
    from django.db.utils import OperationalError, ProgrammingError

    text = str(exc)
    return isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in text or ("relation" in text and "does not exist" in text))


def is_terminal() -> bool:
    return sys.stderr.isatty()
