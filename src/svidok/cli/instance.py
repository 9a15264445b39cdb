"""Commands that set up and serve an instance."""

from __future__ import annotations

import os
import sys

import click

from svidok.cli.base import emit_json, json_option, setup_django


@click.command()
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create an instance: database, blob store and custody signing key.

    The instance folder is --home, else $SVIDOK_HOME, else ./svidok-data.
    Running it again changes nothing that exists (it applies new migrations).
    """
    setup_django(ctx, require_instance=False)
    from svidok.bootstrap import instance_init

    result = instance_init()
    if as_json:
        emit_json(result.__dict__)
        return
    click.echo(f"instance: {result.home}")
    click.echo(f"database: {result.database}")
    state = "created" if result.created_key else "existing"
    click.echo(f"custody signing key ({state}): {result.key_id}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web application with gunicorn (production-grade, static files included)."""
    setup_django(ctx)
    from django.conf import settings

    argv = [
        sys.executable, "-m", "gunicorn", "svidok.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        # Threads keep a worker's heartbeat going while one request streams a
        # multi-gigabyte upload, which a sync worker's timeout would kill.
        "--worker-class", "gthread", "--threads", "4",
        "--timeout", "120",
        "--access-logfile", "-",
        "--forwarded-allow-ips", "127.0.0.1",
        "--config", "python:svidok.serving",  # starts the text-extraction threads
    ]
    click.echo(f"serving {settings.SVIDOK_HOME} at http://{host}:{port}/", err=True)
    os.execv(sys.executable, argv)  # noqa: S606 — replace this process with gunicorn


@click.command()
@json_option
@click.pass_context
def demo(ctx: click.Context, as_json: bool) -> None:
    """Fill the instance with a small synthetic demo collection and a demo login.

    Idempotent: the demo files are generated the same way each time, so a second
    run records nothing new. The login is printed every time.
    """
    setup_django(ctx)
    from svidok.demo import demo_populate

    result = demo_populate()
    if as_json:
        emit_json(result)
        return
    click.echo(f"demo collection '{result['collection']}': {result['items']} items, "
               f"{result['incidents']} incidents")
    click.echo(f"login: {result['username']} / {result['password']}")


COMMANDS = [init, serve, demo]
