"""Commands on single items: list, show, annotate, export."""

from __future__ import annotations

from pathlib import Path

import click

from svidok.cli.base import actor_option, default_actor, emit_json, json_option, setup_django


@click.group()
def items() -> None:
    """Look at evidence items and act on them (every action is logged)."""


def _summary(item) -> dict:  # type: ignore[no-untyped-def]
    return {
        "item": str(item.id),
        "collection": item.collection.name,
        "name": item.original_name,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "flagged": item.flagged,
        "created_at": item.created_at.isoformat(),
    }


@items.command("list")
@click.option("--collection", default=None, help="Only this collection.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def list_items(ctx: click.Context, collection: str | None, limit: int, as_json: bool) -> None:
    """List the most recently ingested items."""
    setup_django(ctx)
    from svidok.apps.evidence.selectors import item_list

    found = item_list(collection=collection, limit=limit)
    if as_json:
        emit_json([_summary(item) for item in found])
        return
    for item in found:
        flag = " [flagged]" if item.flagged else ""
        click.echo(f"{item.id}  {item.sha256[:12]}  {item.media_type:<24} "
                   f"{item.collection.name} / {item.original_name!r}{flag}")


@items.command()
@click.argument("item")
@actor_option
@json_option
@click.pass_context
def show(ctx: click.Context, item: str, actor: str | None, as_json: bool) -> None:
    """Show an item: hashes, metadata summary, acquisitions, derived files, errors.

    Looking at an item is recorded in the custody log as a view.
    """
    setup_django(ctx)
    from svidok.apps.custody.services import Action, record_item_event
    from svidok.apps.evidence.records import acquisition_record, derived_record
    from svidok.apps.evidence.selectors import item_resolve

    found = item_resolve(reference=item)
    record_item_event(item_id=found.id, item_sha256=found.sha256, action=Action.VIEWED,
                      actor=actor or default_actor())
    data = _summary(found) | {
        "summary": found.metadata.get("summary", {}),
        "extraction_errors": found.extraction_errors,
        "acquisitions": [acquisition_record(a) for a in found.acquisitions.all()],
        "derived": [derived_record(d) for d in found.derived.all()],
    }
    if as_json:
        emit_json(data | {"metadata": found.metadata})
        return
    for key in ("item", "collection", "name", "sha256", "size", "media_type", "created_at"):
        click.echo(f"{key}: {data[key]}")
    for key, value in sorted(data["summary"].items()):
        click.echo(f"  {key}: {value}")
    for error in data["extraction_errors"]:
        click.echo(f"flagged: {error}")
    for acquisition in data["acquisitions"]:
        click.echo(f"acquired {acquisition['recorded_at']} from {acquisition['original_path']!r}"
                   f" by {acquisition['collected_by'] or '—'}")
    for derived in data["derived"]:
        click.echo(f"derived {derived['kind']}: sha256:{derived['sha256']}")


@items.command()
@click.argument("item")
@click.argument("text")
@actor_option
@click.pass_context
def annotate(ctx: click.Context, item: str, text: str, actor: str | None) -> None:
    """Add an annotation TEXT to ITEM; it is kept in the custody log for good."""
    setup_django(ctx)
    from svidok.apps.evidence.selectors import item_resolve
    from svidok.apps.evidence.services import item_annotate

    item_annotate(item=item_resolve(reference=item), text=text, actor=actor or default_actor())
    click.echo("annotated")


@items.command()
@click.argument("item")
@click.option("--out", "destination", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to export into (a sub-folder per item is made).")
@actor_option
@json_option
@click.pass_context
def export(ctx: click.Context, item: str, destination: Path, actor: str | None,
           as_json: bool) -> None:
    """Export ITEM's original with its metadata and a proof bundle of its custody.

    The copy is re-hashed on the way out; the export itself is logged, and the
    proof bundle (custody-proof.json) covers it. Check it with `svidok log check`.
    """
    setup_django(ctx)
    from svidok.apps.evidence.selectors import item_resolve
    from svidok.apps.evidence.services import item_export

    target = item_export(item=item_resolve(reference=item), destination=destination,
                         actor=actor or default_actor())
    if as_json:
        emit_json({"path": str(target), "proof": str(target.parent / "custody-proof.json")})
    else:
        click.echo(f"exported to {target}")


COMMANDS = [items]
