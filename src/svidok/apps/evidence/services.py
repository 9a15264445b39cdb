"""Ingest: turning files into evidence items with a custody trail.

The pipeline, per batch of files:

1. Store each file's bytes in the write-once blob store (streamed, fsynced,
   atomically renamed). A file that cannot be read is reported as an error and
   the run goes on.
2. Analyse the stored copy (never the original, which may change after it was
   hashed) of every file whose bytes the collection does not hold yet: media
   type, metadata, extraction errors, derived files.
3. Store the derived files as blobs of their own.
4. In one transaction, under the custody log's lock: decide again which files
   are new (another process may have ingested the same bytes meanwhile),
   create items, acquisitions and derived-file rows, and append their custody
   events, which signs a new tree head.

A crash before step 4 commits leaves only unreferenced blobs, which ``verify``
does not count as problems and a re-run reuses; a crash cannot leave half an
item. Re-running the same ingest records nothing twice: an acquisition with
the same path and the same collection facts already exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from svidok.apps.accounts.permissions import Permission, authorize
from svidok.apps.custody.models import LogState
from svidok.apps.custody.services import (
    Action,
    EventDraft,
    custody_append,
    log_item_proof,
    record_item_event,
)
from svidok.apps.evidence.models import Acquisition, Collection, DerivedFile, Item
from svidok.apps.evidence.protected import source_person_fingerprint_part, source_person_seal
from svidok.apps.evidence.records import (
    acquisition_fingerprint,
    acquisition_record,
    derived_record,
    item_record,
    json_safe,
    metadata_record,
    path_text,
)
from svidok.apps.evidence.similarity import perceptual_index_items
from svidok.apps.evidence.store import instance_store
from svidok.apps.text.services import queue_items
from svidok.apps.text.worker import wake_process_worker
from svidok.core.digest import CHUNK_SIZE, Digest
from svidok.core.errors import InvalidInput, NotFound, StoreError
from svidok.core.media.analyse import Analysis, MediaAnalyser
from svidok.core.media.analyse import DerivedFile as DerivedSpec
from svidok.core.store import BlobStore, PutResult
from svidok.database import database_optimize

Status = Literal["new", "duplicate", "error"]
BATCH_SIZE = 32
OPTIMIZE_AFTER = 100  # new items; then the planner's statistics are refreshed


@dataclass(frozen=True)
class AcquisitionFacts:
    """What the person ingesting says about how the files were obtained."""

    actor: str
    source_url: str = ""
    collected_by: str = ""
    collected_at: datetime | None = None
    note: str = ""
    # Protected: sealed at rest, never logged or shown without an audited reveal.
    source_person: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.collected_at is not None:
            if self.collected_at.tzinfo is None:
                raise InvalidInput("collected_at needs a time zone, e.g. 2024-05-25T16:40+03:00")
            try:
                self.collected_at.astimezone(UTC)
            except OverflowError as exc:
                raise InvalidInput(f"collected_at {self.collected_at.isoformat()} is out of "
                                   "range once converted to UTC") from exc


def moment_parse(text: str) -> datetime | None:
    """An ISO 8601 time with a time zone, or None for empty text."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"expected an ISO 8601 time with a time zone, e.g. 2024-05-25T16:40:00+03:00; "
            f"got {text!r:.60}") from exc
    if moment.tzinfo is None:
        raise InvalidInput(f"expected a time zone in {text!r:.60}, e.g. +03:00 or Z")
    return moment


@dataclass
class IngestResult:
    """The outcome for one input file."""

    path: str
    status: Status
    item: str | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    error: str | None = None
    extraction_errors: list[str] = field(default_factory=list)
    acquisition_recorded: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "item": self.item,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "status": self.status,
        }
        if self.error is not None:
            data["error"] = self.error
        if self.extraction_errors:
            data["extraction_errors"] = self.extraction_errors
        if self.status == "duplicate":
            data["acquisition_recorded"] = self.acquisition_recorded
        return data


@dataclass
class IngestSummary:
    files: int = 0
    new: int = 0
    duplicate: int = 0
    error: int = 0
    flagged: int = 0
    bytes: int = 0
    collection: str = ""
    collection_created: bool = False

    def count(self, result: IngestResult) -> None:
        self.files += 1
        setattr(self, result.status, getattr(self, result.status) + 1)
        if result.status == "new" and result.extraction_errors:
            self.flagged += 1
        if result.size:
            self.bytes += result.size

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Stored:
    """A file after step 1."""

    source: Path
    put: PutResult
    label: str | None = None  # the path to record instead of `source` (uploads)
    analysis: Analysis | None = None
    derived: list[tuple[DerivedSpec, PutResult]] = field(default_factory=list)


def iter_input_files(paths: Sequence[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every regular file under the given paths, with an error text for those we cannot walk.

    Symlinked directories are not followed, so a link loop cannot trap the walk;
    anything that is not a regular file is reported, never opened.
    """
    for root in paths:
        if root.is_dir() and not root.is_symlink():
            errors: list[OSError] = []
            for folder, dirs, files in os.walk(root, onerror=errors.append):
                dirs.sort()
                for name in sorted(files):
                    path = Path(folder) / name
                    # A FIFO or device would block or never end when read: report it.
                    if path.is_file():
                        yield path, None
                    else:
                        yield path, "not a regular file (device, socket, fifo or broken link?)"
            for error in errors:
                yield Path(error.filename or root), f"cannot read folder: {error.strerror}"
        elif root.is_file():
            yield root, None
        elif not root.exists():
            yield root, "no such file or folder"
        else:
            yield root, "not a regular file (device, socket or fifo?)"


@dataclass(frozen=True)
class Upload:
    """A file received over HTTP: a temporary file and the name its sender gave."""

    path: Path
    name: str


def evidence_upload(
    *, user: Any, collection_id: int, uploads: Sequence[Upload], facts: AcquisitionFacts
) -> tuple[IngestSummary, list[IngestResult]]:
    """Ingest uploaded files into a collection where the user may ingest.

    Each is recorded as acquired from ``upload/<batch>/<name>``: the batch id
    keeps two uploads of equally named files apart in the custody trail.
    """
    collection = (Collection.objects.filter(id=collection_id).first()
                  if 1 <= collection_id < 2**63 else None)
    if collection is None:
        raise NotFound("not found")
    authorize(user=user, permission=Permission.INGEST, collection=collection)
    for name, value in facts.__dict__.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{name} contains a NUL character; expected plain text")
    if not uploads:
        raise InvalidInput("no files were uploaded; expected at least one")
    batch = uuid.uuid4().hex[:12]
    labels = {u.path: f"upload/{batch}/{_safe_file_name(u.name, 'unnamed')}" for u in uploads}
    results: list[IngestResult] = []
    summary = evidence_ingest(paths=[u.path for u in uploads], collection_name=collection.name,
                              facts=facts, on_result=results.append, labels=labels)
    return summary, results


def collection_get_or_create(*, name: str) -> tuple[Collection, bool]:
    name = name.strip()
    if not name:
        raise InvalidInput("a collection needs a name; got an empty one")
    with transaction.atomic():
        return Collection.objects.get_or_create(name=name)


def evidence_ingest(
    *,
    paths: Sequence[Path],
    collection_name: str,
    facts: AcquisitionFacts,
    on_result: Callable[[IngestResult], None] | None = None,
    batch_size: int = BATCH_SIZE,
    labels: Mapping[Path, str] | None = None,
) -> IngestSummary:
    """Ingest files and folders into a collection; see the module docstring for the steps.

    ``labels`` gives, for some input files, the path to record as where they came
    from (an upload's ``upload/<id>/<file name>`` instead of its temporary file).
    """
    collection, created = collection_get_or_create(name=collection_name)
    summary = IngestSummary(collection=collection.name, collection_created=created)
    store = instance_store()
    store.create()
    work_root = settings.SVIDOK_PATHS.work
    work_root.mkdir(parents=True, exist_ok=True)

    def report(result: IngestResult) -> None:
        summary.count(result)
        if on_result is not None:
            on_result(result)

    with MediaAnalyser(workdir=work_root,
                       perceptual=settings.SVIDOK_PERCEPTUAL_HASHES) as analyser:
        batch: list[Path] = []
        for path, walk_error in iter_input_files(paths):
            if walk_error is not None:
                report(IngestResult(path=path_text(path), status="error", error=walk_error))
                continue
            batch.append(path)
            if len(batch) >= batch_size:
                _ingest_batch(batch, collection, facts, store, analyser, work_root, report,
                              labels or {})
                batch = []
        if batch:
            _ingest_batch(batch, collection, facts, store, analyser, work_root, report,
                          labels or {})
    if summary.new >= OPTIMIZE_AFTER:
        database_optimize()
    return summary


def _ingest_batch(
    batch: list[Path],
    collection: Collection,
    facts: AcquisitionFacts,
    store: BlobStore,
    analyser: MediaAnalyser,
    work_root: Path,
    report: Callable[[IngestResult], None],
    labels: Mapping[Path, str],
) -> None:
    # 1. store bytes
    stored: list[_Stored] = []
    for path in batch:
        try:
            stored.append(_Stored(source=path, put=store.put_path(path), label=labels.get(path)))
        except OSError as exc:
            report(IngestResult(path=labels.get(path) or path_text(path), status="error",
                                error=f"cannot read file: {exc.strerror or exc}"))
        except Exception as exc:  # one unreadable file must not stop the run
            report(IngestResult(path=labels.get(path) or path_text(path), status="error",
                                error=str(exc)))
    if not stored:
        return

    # 2. analyse what looks new; 3. store derived files
    held = set(
        Item.objects.filter(
            collection=collection, sha256__in={s.put.digest.hex for s in stored}
        ).values_list("sha256", flat=True)
    )
    to_analyse: dict[str, _Stored] = {}
    for entry in stored:
        if entry.put.digest.hex not in held:
            to_analyse.setdefault(entry.put.digest.hex, entry)
    workdir = Path(tempfile.mkdtemp(dir=work_root, prefix="ingest-"))
    try:
        analyser.workdir = workdir  # derived files of this batch go here, removed below
        entries = list(to_analyse.values())
        with ExitStack() as stack:
            local = [stack.enter_context(store.local_path(e.put.digest)) for e in entries]
            analyses = analyser.analyse_many(local)
        for entry, analysis in zip(entries, analyses, strict=True):
            entry.analysis = analysis
            entry.derived = [(d, store.put_path(d.path)) for d in analysis.derived]
        # 4. record, under the log's lock
        results = _record_batch(stored, collection, facts)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        report(result)


def _record_batch(
    stored: list[_Stored], collection: Collection, facts: AcquisitionFacts
) -> list[IngestResult]:
    results: list[IngestResult] = []
    with transaction.atomic():
        LogState.objects.select_for_update().get(id=1)
        items = {
            item.sha256: item
            for item in Item.objects.filter(
                collection=collection, sha256__in={s.put.digest.hex for s in stored}
            )
        }
        drafts: list[EventDraft] = []
        for entry in stored:
            result = _record_one(entry, collection, facts, items, drafts)
            results.append(result)
        custody_append(drafts=drafts, actor=facts.actor)
        new = {result.item for result in results if result.status == "new"}
        new_items = [item for item in items.values() if str(item.id) in new]
        perceptual_index_items(new_items)
        # Text is read later, off the ingest path: queued here, read by the server's
        # background worker (woken once this commits) or `svidok text extract`.
        if queue_items(new_items):
            transaction.on_commit(wake_process_worker)
    return results


def _record_one(
    entry: _Stored,
    collection: Collection,
    facts: AcquisitionFacts,
    items: dict[str, Item],
    drafts: list[EventDraft],
) -> IngestResult:
    digest = entry.put.digest.hex
    original_path = entry.label or path_text(entry.source.absolute())
    item = items.get(digest)
    is_new = item is None
    if item is None:
        analysis = entry.analysis
        if analysis is None:
            # Analysed by nobody: a concurrent ingest held the bytes when we
            # looked and has since… cannot happen (items are never deleted),
            # but refuse loudly rather than record an item without analysis.
            raise RuntimeError(f"bytes {digest} were not analysed before recording")
        item = Item.objects.create(
            collection=collection,
            sha256=digest,
            size=entry.put.size,
            media_type=analysis.media_type,
            original_name=(Path(entry.label).name if entry.label
                           else path_text(Path(entry.source.name))),
            metadata=json_safe(analysis.metadata),
            extraction_errors=json_safe(list(analysis.errors)),
            flagged=bool(analysis.errors),
        )
        items[digest] = item
    fingerprint = acquisition_fingerprint(
        original_path=original_path,
        collected_at=facts.collected_at,
        collected_by=facts.collected_by,
        source_url=facts.source_url,
        note=facts.note,
        source_person_commitment=source_person_fingerprint_part(facts.source_person),
    )
    result = IngestResult(
        path=original_path,
        status="new" if is_new else "duplicate",
        item=str(item.id),
        sha256=digest,
        size=item.size,
        media_type=item.media_type,
        extraction_errors=list(item.extraction_errors) if is_new else [],
    )
    on_item = {"item_id": item.id, "item_sha256": digest}
    if not item.acquisitions.filter(fingerprint=fingerprint).exists():
        acquisition = Acquisition(
            item=item,
            fingerprint=fingerprint,
            recorded_at=timezone.now(),
            collected_at=facts.collected_at,
            collected_by=facts.collected_by,
            source_url=facts.source_url,
            note=facts.note,
            original_path=original_path,
            actor=facts.actor,
        )
        source_person_seal(acquisition, facts.source_person)
        acquisition.save(force_insert=True)
        drafts.append(EventDraft(Action.ACQUIRED, {"acquisition": acquisition_record(acquisition)},
                                 **on_item))
        result.acquisition_recorded = True
    if is_new:
        drafts.append(EventDraft(Action.STORED, {"item": item_record(item)}, **on_item))
        drafts.append(EventDraft(Action.METADATA_EXTRACTED, metadata_record(item), **on_item))
        for spec, put in entry.derived:
            derived = DerivedFile.objects.create(
                item=item,
                kind=spec.kind,
                sha256=put.digest.hex,
                size=put.size,
                media_type=spec.media_type,
                details=json_safe(spec.details),
            )
            drafts.append(EventDraft(Action.DERIVED_CREATED, {"derived": derived_record(derived)},
                                     **on_item))
    return result


def item_annotate(*, item: Item, text: str, actor: str) -> None:
    """Record an annotation on an item; it lives in the custody log, append-only."""
    text = text.strip()
    if not text:
        raise InvalidInput("an annotation needs text; got an empty one")
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.ANNOTATED,
                      actor=actor, details={"text": json_safe(text)})


def _safe_file_name(name: str, fallback: str) -> str:
    """The original name if it is a harmless single path component, else ``fallback``."""
    if name in {"", ".", ".."} or "/" in name or "\x00" in name or len(name.encode()) > 200:
        return fallback
    return name


def item_export(*, item: Item, destination: Path, actor: str) -> Path:
    """Copy an item's original out, with its metadata and a proof bundle of its custody.

    The bytes are re-hashed while copied, so a damaged blob is never exported. The
    export is recorded in the log before the proof is made, so the proof covers it.
    """
    store = instance_store()
    folder = destination / item.sha256
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _safe_file_name(item.original_name, item.sha256)
    partial = folder / f".{item.sha256}.partial"
    hasher = hashlib.sha256()
    with store.open(Digest(item.sha256)) as source, open(partial, "wb") as out:
        while chunk := source.read(CHUNK_SIZE):
            hasher.update(chunk)
            out.write(chunk)
    if hasher.hexdigest() != item.sha256:
        partial.unlink()
        raise StoreError(
            f"blob of item {item.id} is damaged: expected sha256:{item.sha256}, "
            f"read sha256:{hasher.hexdigest()}; nothing exported — run `svidok verify`"
        )
    partial.replace(target)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.EXPORTED,
                      actor=actor, details={"destination": path_text(target)})
    (folder / "metadata.json").write_text(
        json.dumps(item.metadata, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    (folder / "custody-proof.json").write_text(
        json.dumps(log_item_proof(item_id=item.id), ensure_ascii=False, indent=2),
        encoding="utf-8")
    return target


def item_export_archive(*, item: Item, actor: str) -> BinaryIO:
    """The export of :func:`item_export` as one ZIP file, opened for reading.

    The archive is built in the instance's work folder and unlinked once open, so
    nothing is left behind however the download ends.
    """
    work = settings.SVIDOK_PATHS.work
    work.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=work, prefix="export-"))
    try:
        item_export(item=item, destination=folder, actor=actor)
        archive = folder / "export.zip"
        # Stored, not deflated: photos and videos do not compress, and a court may
        # want to see the original bytes in the archive as they are.
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED,
                             allowZip64=True) as out:
            for path in sorted((folder / item.sha256).iterdir()):
                out.write(path, arcname=f"{item.sha256}/{path.name}")
        stream = open(archive, "rb")  # noqa: SIM115 — handed to the caller
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return stream
