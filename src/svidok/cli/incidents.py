"""Importing public incident datasets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from svidok.cli.base import actor_option, default_actor, emit_json, json_option, setup_django
from svidok.core.incidents.records import ParsedDataset

MAX_ERRORS_SHOWN = 20


def _run(ctx: click.Context, parse: Callable[[], ParsedDataset], path: Path, collection: str,
         strict: bool, actor: str | None, as_json: bool) -> None:
    setup_django(ctx)
    from svidok.apps.incidents.importing import file_sha256, incidents_import

    digest = file_sha256(path)
    if not as_json:
        click.echo(f"reading {path} ...", err=True)
    parsed = parse()
    if not as_json:
        click.echo(f"read {len(parsed.incidents)} incidents, {len(parsed.errors)} records "
                   f"refused; placing and saving ...", err=True)
    summary = incidents_import(parsed=parsed, collection_name=collection,
                               actor=actor or default_actor(), file_name=path.name,
                               file_digest=digest, strict=strict)
    if as_json:
        emit_json(summary.to_json())
    else:
        verb = "imported" if summary.landed else "NOT imported (--strict and records refused)"
        click.echo(f"{summary.dataset} {verb} into {collection!r}: {summary.created} created, "
                   f"{summary.updated} updated, {summary.unchanged} unchanged, "
                   f"{summary.flagged} flagged as gone upstream, {summary.rejected} rejected")
        for error in summary.errors[:MAX_ERRORS_SHOWN]:
            click.echo(f"  row {error.row} ({error.upstream_id or 'no id'}): {error.reason}",
                       err=True)
        if len(summary.errors) > MAX_ERRORS_SHOWN:
            click.echo(f"  … and {len(summary.errors) - MAX_ERRORS_SHOWN} more (--json lists "
                       "all)", err=True)
    if not summary.landed:
        ctx.exit(1)


def _common(function: Callable[..., None]) -> Callable[..., None]:
    function = click.option("--collection", required=True,
                            help="Collection to import into (created if missing).")(function)
    function = click.option("--strict", is_flag=True,
                            help="Import nothing when any record is refused (default: import "
                                 "the good records and report the refused ones).")(function)
    return json_option(actor_option(function))


@click.group("import")
def import_() -> None:
    """Import incidents from public datasets into a collection.

    Re-importing a newer version of a dataset updates its incidents in place by
    their upstream id and records what changed; incidents gone upstream are
    flagged, never deleted. Each import lands whole (one transaction) and is
    recorded in the custody log.
    """


@import_.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_common
@click.pass_context
def bellingcat(ctx: click.Context, path: Path, collection: str, strict: bool,
               actor: str | None, as_json: bool) -> None:
    """Bellingcat's Civilian Harm in Ukraine TimeMap data: the export folder (events,
    sources, associations) or the denormalised JSON."""
    from svidok.core.incidents.importers import bellingcat as parser

    _run(ctx, lambda: parser.parse(path), path, collection, strict, actor, as_json)


@import_.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common
@click.pass_context
def cir(ctx: click.Context, path: Path, collection: str, strict: bool, actor: str | None,
        as_json: bool) -> None:
    """The Centre for Information Resilience's Russia-Ukraine Monitor CSV."""
    from svidok.core.incidents.importers import cir as parser

    _run(ctx, lambda: parser.parse(path), path, collection, strict, actor, as_json)


@import_.command("csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML file saying which column is what (docs/import-mapping.md).")
@_common
@click.pass_context
def csv_(ctx: click.Context, path: Path, mapping_path: Path, collection: str, strict: bool,
         actor: str | None, as_json: bool) -> None:
    """Any CSV of incidents, read through a mapping file."""
    from svidok.core.incidents.importers import mapped

    mapping = mapped.load_mapping(mapping_path)
    _run(ctx, lambda: mapped.parse_csv(path, mapping), path, collection, strict, actor, as_json)


@import_.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML file saying which property is what (docs/import-mapping.md).")
@_common
@click.pass_context
def geojson(ctx: click.Context, path: Path, mapping_path: Path, collection: str, strict: bool,
            actor: str | None, as_json: bool) -> None:
    """A GeoJSON FeatureCollection of incidents (Point geometries), through a mapping file."""
    from svidok.core.incidents.importers import mapped

    mapping = mapped.load_mapping(mapping_path)
    _run(ctx, lambda: mapped.parse_geojson(path, mapping), path, collection, strict, actor,
         as_json)


@import_.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@actor_option
@click.pass_context
def alerts(ctx: click.Context, path: Path, as_json: bool, actor: str | None) -> None:
    """The public air-raid alert dataset: official_data_en.csv or volunteer_data_en.csv
    (told apart by their columns). Replaces that source's alerts; incidents then show
    whether an alert was active in their oblast, raion or hromada at the time."""
    setup_django(ctx)
    from svidok.apps.incidents.alerts import alerts_import

    summary = alerts_import(path=path, actor=actor or default_actor())
    if as_json:
        emit_json(summary.to_json())
        return
    click.echo(f"{summary.source} alerts: {summary.periods} periods imported "
               f"({summary.replaced} replaced), {len(summary.errors)} rows rejected")
    for error in summary.errors[:MAX_ERRORS_SHOWN]:
        click.echo(f"  row {error['row']}: {error['reason']}", err=True)
    for name, count in sorted(summary.unresolved.items()):
        click.echo(f"  unit not found: {name!r} ({count} rows)", err=True)


@click.group()
def incidents() -> None:
    """Incidents: duplicate candidates across and within datasets."""


@incidents.command()
@click.option("--collection", required=True, help="Collection whose incidents are compared.")
@click.option("--min-score", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Leave out pairs scoring lower.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1),
              help="How many pending pairs to print (text output).")
@json_option
@click.pass_context
def duplicates(ctx: click.Context, collection: str, min_score: float, limit: int,
               as_json: bool) -> None:
    """Find candidate "same incident" pairs by time window, distance, shared source URLs
    (normalised), weapon and text; store them for review (web UI: Duplicates) and list
    the pending ones, best first. Pairs already decided keep their decision."""
    setup_django(ctx)
    from svidok.apps.evidence.models import Collection
    from svidok.apps.incidents.deduplication import duplicates_find
    from svidok.apps.incidents.models import DuplicateCandidate
    from svidok.core.errors import NotFound

    target = Collection.objects.filter(name=collection).first()
    if target is None:
        raise NotFound(f"no collection named {collection!r}")
    summary = duplicates_find(collection=target, min_score=min_score)
    pending = (DuplicateCandidate.objects.filter(collection=target, score__gte=min_score,
                                                 status=DuplicateCandidate.PENDING)
               .select_related("first", "second").order_by("-score", "id"))
    if as_json:
        emit_json({**summary.to_json(), "pairs": [
            {"first": str(c.first_id), "second": str(c.second_id),
             "first_upstream": f"{c.first.dataset}:{c.first.upstream_id}",
             "second_upstream": f"{c.second.dataset}:{c.second.upstream_id}",
             "score": c.score, "reasons": c.reasons} for c in pending.iterator()]})
        return
    click.echo(f"{summary.incidents} incidents compared: {summary.candidates} candidate "
               f"pairs ({summary.new} new, {summary.decided} already decided)")
    for candidate in pending[:limit]:
        first, second = candidate.first, candidate.second
        click.echo(f"{candidate.score:.2f}  {first.dataset}:{first.upstream_id or first.id} "
                   f"~ {second.dataset}:{second.upstream_id or second.id}")
        click.echo(f"      {'; '.join(candidate.reasons)}")


COMMANDS = [import_, incidents]
