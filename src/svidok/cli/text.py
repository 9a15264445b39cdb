"""Text in media: OCR of images, PDF text layers, full-text search."""

from __future__ import annotations

import signal
import threading

import click

from svidok.cli.base import emit_json, json_option, setup_django
from svidok.cli.media import collection_ids_named


@click.group()
def text() -> None:
    """Text read from images (OCR: Ukrainian, Russian, English) and PDFs, and search in it.

    Ingest only queues images and PDFs; the web server reads them in the
    background, and `svidok text extract` reads them here.
    """


@text.command()
@click.option("--limit", default=None, type=click.IntRange(1), help="Stop after this many items.")
@json_option
@click.pass_context
def extract(ctx: click.Context, limit: int | None, as_json: bool) -> None:
    """Read the text of queued items until the queue is empty (or --limit is reached).

    Safe beside a running server: each item is read by one worker only. Ctrl-C
    hands the item being read back to the queue.
    """
    setup_django(ctx)
    from svidok.apps.text.services import extract_pending

    totals: dict[str, int] = {}
    errors: list[str] = []
    remaining = limit
    # Ctrl-C asks the service to stop between pages: the item being read goes back
    # to the queue instead of waiting for its lease to run out.
    # A second Ctrl-C stops at once (the lease then hands the item on after 10 minutes).
    stop = threading.Event()

    def interrupted(*_: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo("stopping after this page (Ctrl-C again to quit now)", err=True)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        while (remaining is None or remaining > 0) and not stop.is_set():
            summary = extract_pending(min(remaining or 10, 10), should_stop=stop.is_set)
            for key, value in summary.to_json().items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
            errors += [e for e in summary.errors if e not in errors]
            if not summary.claimed:
                break
            if remaining is not None:
                remaining -= summary.claimed
            if not as_json:
                click.echo(f"read {totals.get('done', 0)} items, {totals.get('failed', 0)} "
                           f"failed, {totals.get('pages', 0)} pages so far", err=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        click.echo("interrupted: the item being read went back to the queue", err=True)
    result = {**totals, "errors": errors}
    if as_json:
        emit_json(result)
        return
    click.echo(f"{totals.get('done', 0)} items read, {totals.get('failed', 0)} failed, "
               f"{totals.get('pages', 0)} pages")
    for error in errors:
        click.echo(f"  error: {error}", err=True)


@text.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """How many items are pending, done, failed or have no text to read."""
    setup_django(ctx)
    from svidok.apps.text.selectors import extraction_counts

    counts = extraction_counts()
    if as_json:
        emit_json(counts)
        return
    for name, count in sorted(counts.items()):
        click.echo(f"{name:15} {count}")


@text.command()
@click.option("--failed", is_flag=True, help="Also queue again the items that failed.")
@json_option
@click.pass_context
def queue(ctx: click.Context, failed: bool, as_json: bool) -> None:
    """Queue items never queued (ingested before text extraction existed), and with
    --failed those that failed (after installing tesseract, say)."""
    setup_django(ctx)
    from svidok.apps.text.services import queue_missing, retry_failed

    result = {"queued": queue_missing(), "requeued": retry_failed() if failed else 0}
    if as_json:
        emit_json(result)
    else:
        click.echo(f"queued {result['queued']} items, {result['requeued']} failed ones again")


@text.command()
@click.argument("query")
@click.option("--collection", default=None, help="Only this collection.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def search(ctx: click.Context, query: str, collection: str | None, limit: int,
           as_json: bool) -> None:
    """Pages whose text holds every word of QUERY (any case, Cyrillic or Latin).

    With --json, one line per page: {"item", "name", "collection", "page",
    "method", "snippet", "rank"}.
    """
    setup_django(ctx)
    from svidok.apps.evidence.models import Item
    from svidok.apps.text.search import search_text

    hits = search_text(query, collection_ids=collection_ids_named(collection), limit=limit)
    items = Item.objects.select_related("collection").in_bulk([h.item_id for h in hits])
    for hit in hits:
        item = items[hit.item_id]
        if as_json:
            emit_json({**hit.to_json(), "name": item.original_name,
                       "collection": item.collection.name})
        else:
            click.echo(f"{item.id}  p.{hit.page}  {item.collection.name}  {item.original_name}")
            click.echo(f"    {hit.snippet}")
    if not hits and not as_json:
        click.echo("no text found", err=True)


@text.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the full-text index from the stored text (not needed in normal use)."""
    setup_django(ctx)
    from svidok.apps.text.services import text_reindex

    click.echo(f"reindexed {text_reindex()} pages")


COMMANDS = [text]
