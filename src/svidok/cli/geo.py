"""The offline gazetteer of Ukraine: find places by name, or what lies at a point."""

from __future__ import annotations

import click

from svidok.cli.base import emit_json, json_option
from svidok.core.geo.places import KINDS


@click.group()
def geo() -> None:
    """Places of Ukraine, offline: oblasts, raions, hromadas and settlements.

    Names are found in Ukrainian, in Russian spelling and in Latin
    transliterations ("Kharkiv", "Харків", "Харьков", "Kharkov"). Needs no
    instance; the first use builds the gazetteer (a few seconds) and caches it.
    """


@geo.command()
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), help="Only places of this kind.")
@click.option("--oblast", metavar="PCODE", help="Only places in this oblast (P-code, e.g. UA63).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 500))
@json_option
def search(name: str, kind: str | None, oblast: str | None, limit: int, as_json: bool) -> None:
    """Places named NAME in any spelling; then names starting with it; then similar ones."""
    from svidok.core.geo.lookup import gazetteer

    hits = gazetteer().search(name, kind=kind, oblast=oblast.upper() if oblast else None,
                              limit=limit)
    if as_json:
        emit_json([hit.to_json() for hit in hits])
        return
    if not hits:
        click.echo(f"no place found for {name!r}")
    for hit in hits:
        place = hit.place
        where = (f"{place.latitude:.5f}, {place.longitude:.5f}"
                 if place.latitude is not None and place.longitude is not None else "no point")
        note = " (hromada centroid)" if place.approximate else ""
        click.echo(f"{place.code:<14} {place.kind:<10} {place.name_uk} / {place.name_en}  "
                   f"[{where}{note}; {hit.match}]")


@geo.command()
@click.argument("latitude", type=float)
@click.argument("longitude", type=float)
@json_option
def locate(latitude: float, longitude: float, as_json: bool) -> None:
    """The oblast, raion, hromada and nearest settlement of a point (WGS 84 degrees)."""
    from svidok.core.geo.lookup import gazetteer

    found = gazetteer().locate(latitude, longitude)
    if as_json:
        emit_json(found.to_json())
        return
    if found.oblast is None:
        click.echo("outside Ukraine")
        return
    for label, place in (("oblast", found.oblast), ("raion", found.raion),
                         ("hromada", found.hromada)):
        if place is not None:
            click.echo(f"{label:<11} {place.name_uk} / {place.name_en} ({place.code})")
    if found.settlement is not None and found.settlement_km is not None:
        click.echo(f"{'nearest':<11} {found.settlement.name_uk} / {found.settlement.name_en} "
                   f"({found.settlement.code}), {found.settlement_km:.1f} km")
    click.echo(f"(hromada: {found.hromada_method})")


COMMANDS = [geo]
