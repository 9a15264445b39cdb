"""Commands on evidence: ingest and verify."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from svidok.cli.base import (
    actor_option,
    default_actor,
    emit_json,
    is_terminal,
    json_option,
    setup_django,
)


def _parse_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"expected an ISO 8601 date or time such as 2024-07-08T10:45:00+03:00, got {value!r}"
        ) from exc
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"give a time zone (e.g. +03:00 or Z) so the time is unambiguous; got {value!r}"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise click.BadParameter(f"{value!r} is out of range once converted to UTC") from exc


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", required=True, help="Collection to add to (created if missing).")
@click.option("--source-url", default="", help="Where the material was obtained from.")
@click.option("--collected-by", default="", help="Who collected it.")
@click.option("--collected-at", default=None,
              help="When it was collected, ISO 8601 with time zone.")
@click.option("--note", default="", help="A note recorded with the acquisition.")
@click.option("--source-person-stdin", is_flag=True,
              help="Read who gave the material (name, contact) from standard input: a "
                   "protected field, encrypted at rest and never put on the command line.")
@actor_option
@json_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], collection: str, source_url: str,
           collected_by: str, collected_at: str | None, note: str, source_person_stdin: bool,
           actor: str | None, as_json: bool) -> None:
    """Preserve files (folders are walked recursively) as evidence items.

    Each file's bytes are stored once, by SHA-256; a file already held in the
    collection gains one more acquisition record. Metadata and derived files
    (thumbnails, keyframes, contact sheets) are extracted from the stored copy.
    Files that cannot be analysed are still preserved and flagged. With --json,
    one JSON line per file, then a summary line. Exits 1 if any file could not
    be read at all.
    """
    moment = _parse_moment(collected_at)
    setup_django(ctx)
    from svidok.apps.evidence.services import (
        AcquisitionFacts,
        IngestResult,
        IngestSummary,
        evidence_ingest,
        iter_input_files,
    )

    facts = AcquisitionFacts(
        actor=actor or default_actor(),
        source_url=source_url,
        collected_by=collected_by,
        collected_at=moment,
        note=note,
        source_person=sys.stdin.readline().strip() if source_person_stdin else "",
    )
    show_bar = not as_json and is_terminal()

    def echo_result(result: IngestResult) -> None:
        if as_json:
            emit_json(result.to_json())
        elif result.status == "error":
            click.echo(f"error: {result.path}: {result.error}", err=True)
        elif not show_bar:
            flag = (f" [flagged: {'; '.join(result.extraction_errors)}]"
                    if result.extraction_errors else "")
            click.echo(f"{result.status}: {result.path} → {result.item}{flag}")

    def run(on_result: Callable[[IngestResult], None]) -> IngestSummary:
        return evidence_ingest(paths=list(paths), collection_name=collection, facts=facts,
                               on_result=on_result)

    if show_bar:
        total = sum(1 for _ in iter_input_files(list(paths)))
        with click.progressbar(length=total, label="ingesting", file=sys.stderr,
                               show_pos=True, show_eta=True) as bar:
            def advance(result: IngestResult) -> None:
                echo_result(result)
                bar.update(1)

            summary = run(advance)
    else:
        summary = run(echo_result)
    if as_json:
        emit_json({"summary": summary.to_json()})
    else:
        click.echo(
            f"{summary.files} files: {summary.new} new, {summary.duplicate} duplicate, "
            f"{summary.error} errors, {summary.flagged} flagged — collection '{summary.collection}'"
        )
    if summary.error:
        ctx.exit(1)


@click.command()
@json_option
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Audit everything from the bytes up; exit 0 only when all is intact.

    Re-hashes every blob, checks item, acquisition and derived-file rows against
    the custody log, recomputes the Merkle tree and checks every signed tree
    head. Each problem is named with its kind and the item concerned.
    """
    setup_django(ctx)
    from svidok.apps.evidence.audit import audit_run

    progress = None
    if not as_json and is_terminal():
        def progress(stage: str, count: int) -> None:
            click.echo(f"\rchecking {stage}: {count}".ljust(40), nl=False, err=True)

    report = audit_run(progress=progress)
    if progress is not None:
        click.echo("", err=True)
    if as_json:
        emit_json(report.to_json())
    else:
        for problem in report.problems:
            where = f" item {problem.item}:" if problem.item else ""
            click.echo(f"PROBLEM {problem.kind}:{where} {problem.detail}")
        verdict = "OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)"
        click.echo(f"{verdict} — {report.items} items, {report.blobs} blobs, "
                   f"{report.events} events, {report.heads} signed heads")
    if not report.ok:
        ctx.exit(1)


COMMANDS = [ingest, verify]
