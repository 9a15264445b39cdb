"""Server-rendered pages: validate, call a service or selector, respond.

Access is declared on each view with :mod:`svidok.web.access`.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.i18n import set_language

from svidok.apps.accounts.permissions import Permission, can, visible_collection_ids
from svidok.apps.custody.models import CustodyEvent, LogState
from svidok.apps.custody.services import Action, log_item_proof, record_item_event
from svidok.apps.custody.signing_key import instance_public_key
from svidok.apps.evidence.grouping import near_duplicate_clusters
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.protected import acquisition_masked, protected_reveal
from svidok.apps.evidence.selectors import (
    MEDIA_KINDS,
    SORTS,
    ItemFilters,
    collection_choices,
    collections_visible,
    items_page,
    items_visible,
)
from svidok.apps.evidence.services import (
    AcquisitionFacts,
    Upload,
    evidence_upload,
    item_export_archive,
)
from svidok.apps.evidence.similarity import matchable_item_count, similar_to_item
from svidok.apps.evidence.store import instance_store
from svidok.apps.evidence.video_similarity import item_video_query, similar_videos
from svidok.apps.text.search import search_text
from svidok.apps.text.selectors import item_extraction, item_text_pages
from svidok.core.custody.proofs import verify_proof_bundle
from svidok.core.digest import Digest
from svidok.core.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    VerificationError,
)
from svidok.web.access import item_view, post_only, public, signed_in
from svidok.web.uploads import upload_limit, upload_refused

PAGE_SIZE = 50
TEXT_HITS = 100  # pages listed by a text search
TEXT_PAGES_SHOWN = 20  # pages of an item's text on its page; the API gives them all
# Images and videos; beyond, `svidok media clusters`. Each image is a few index searches
# (≈ 20,000 in 10 s); each video reads its TMK file and compares frames, much slower.
CLUSTERS_ON_THE_FLY = 20_000


def _actor(request: HttpRequest) -> str:
    return f"web:{request.user.get_username()}"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@public
def switch_language(request: HttpRequest) -> HttpResponse:
    """Remember the user's language choice (POST, CSRF-protected) and go back."""
    return set_language(request)


@signed_in
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts over the user's collections and their latest custody events."""
    collections = collections_visible(user=request.user)
    items = items_visible(user=request.user, filters=ItemFilters()).order_by()
    since = timezone.now() - timedelta(days=7)
    recent = (CustodyEvent.objects.filter(item_id__in=items.values("id"))
              .order_by("-seq")[:15])
    names = dict(Item.objects.filter(id__in={e.item_id for e in recent})
                 .values_list("id", "original_name"))
    state = LogState.objects.filter(id=1).first()
    context = {
        "collections": collections,
        "item_count": sum(c["items"] for c in collections),
        "flagged_count": items.filter(flagged=True).count(),
        "week_count": items.filter(created_at__gte=since).count(),
        "log_size": state.size if state else 0,
        "recent": [{"event": e, "name": names.get(e.item_id, "")} for e in recent],
    }
    return render(request, "svidok/dashboard.html", context)


@signed_in
def collection_list(request: HttpRequest) -> HttpResponse:
    return render(request, "svidok/collections.html",
                  {"collections": collections_visible(user=request.user)})


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"expected a date as YYYY-MM-DD, got {text!r:.40}") from exc


def _filters(request: HttpRequest) -> ItemFilters:
    get = request.GET
    collection = get.get("collection") or None
    flagged = {"yes": True, "no": False}.get(get.get("flagged", ""))
    return ItemFilters(
        collection=int(collection) if collection and collection.isdigit() else None,
        media=get.get("media", "")[:255], ingested_from=_date(get.get("from")),
        ingested_to=_date(get.get("to")), source=get.get("source", "")[:300],
        sha256_prefix=get.get("hash", "")[:71], query=get.get("q", "")[:300],
        flagged=flagged, sort=get.get("sort") or "-ingested")


@signed_in
def item_list(request: HttpRequest) -> HttpResponse:
    """Items of the user's collections: filtered, sorted, paginated; also the search page."""
    error = None
    try:
        filters = _filters(request)
    except InvalidInput as exc:
        error, filters = exc.message, ItemFilters()
    page = items_page(user=request.user, filters=filters, number=request.GET.get("page"),
                      size=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    sort_query.pop("sort", None)
    sort_query.pop("page", None)
    context = {
        "page": page, "filters": filters, "error": error, "query": query.urlencode(),
        "sort_query": sort_query.urlencode(), "sorts": SORTS, "media_kinds": MEDIA_KINDS,
        "collections": collection_choices(user=request.user), "values": request.GET,
    }
    template = "svidok/items_results.html" if _is_htmx(request) else "svidok/items.html"
    return render(request, template, context, status=400 if error else 200)


@signed_in
def upload(request: HttpRequest) -> HttpResponse:
    """Upload several files into a collection; they stream to disk, never into memory."""
    targets = [c for c in collections_visible(user=request.user)
               if can(user=request.user, permission=Permission.INGEST, collection=c["collection"])]
    context: dict[str, Any] = {"targets": targets, "limit": upload_limit()}
    status = 200
    if request.method == "POST":
        try:
            context["summary"], context["results"] = _handle_upload(request)
        except (InvalidInput, NotFound, Forbidden) as exc:
            context["error"] = exc.message
            status = {TooLarge: 413, NotFound: 404, Forbidden: 403}.get(type(exc), 400)
    template = "svidok/upload_results.html" if _is_htmx(request) else "svidok/upload.html"
    return render(request, template, context, status=status)


def _handle_upload(request: HttpRequest) -> tuple[Any, Any]:
    if upload_refused(request):
        raise TooLarge(f"the upload exceeds the limit of {upload_limit():,} bytes")
    collection = request.POST.get("collection", "")
    if not collection.isdigit():
        raise InvalidInput("choose a collection to upload into")
    # The form asks for a day; it is recorded as that day's start in UTC.
    day = _date(request.POST.get("collected_at"))
    collected_at = datetime.combine(day, time.min, tzinfo=UTC) if day else None
    facts = AcquisitionFacts(
        actor=_actor(request), source_url=request.POST.get("source_url", "").strip(),
        collected_by=request.POST.get("collected_by", "").strip(), collected_at=collected_at,
        note=request.POST.get("note", "").strip(),
        source_person=request.POST.get("source_person", "").strip())
    uploads = [Upload(path=Path(f.temporary_file_path()), name=f.name or "unnamed")
               for f in request.FILES.getlist("files")]
    return evidence_upload(user=request.user, collection_id=int(collection), uploads=uploads,
                           facts=facts)


@item_view(Permission.VIEW_ITEMS)
def item_detail(request: HttpRequest, item: Item) -> HttpResponse:
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=_actor(request))
    acquisitions = list(item.acquisitions.all())
    for acquisition in acquisitions:
        acquisition.item = item
        acquisition.masked = acquisition_masked(user=request.user, acquisition=acquisition)
    derived = list(item.derived.all())
    context = {
        "item": item,
        "acquisitions": acquisitions,
        "derived": derived,
        "thumbnail": next((d for d in derived if d.kind == "thumbnail"), None),
        "contact_sheet": next((d for d in derived if d.kind == "contact_sheet"), None),
        "events": CustodyEvent.objects.filter(item_id=item.id).order_by("seq"),
        "metadata": sorted((item.metadata.get("summary") or {}).items()),
        "can_download": can(user=request.user, permission=Permission.DOWNLOAD,
                            collection=item.collection),
        "can_export": can(user=request.user, permission=Permission.EXPORT,
                          collection=item.collection),
        "can_audit": can(user=request.user, permission=Permission.VIEW_AUDIT,
                         collection=item.collection),
        "text_status": item_extraction(item=item),
        "text_pages": item_text_pages(item=item, limit=TEXT_PAGES_SHOWN),
        "text_pages_shown": TEXT_PAGES_SHOWN,
    }
    return render(request, "svidok/item.html", context)


@signed_in
def text_search(request: HttpRequest) -> HttpResponse:
    """Pages of images and PDFs in the user's collections whose text has every word asked."""
    query = request.GET.get("q", "")[:300]
    visible = visible_collection_ids(user=request.user)
    chosen_text = request.GET.get("collection", "")
    chosen = int(chosen_text) if re.fullmatch(r"[0-9]{1,18}", chosen_text) else None
    collection_ids = visible
    if chosen is not None:
        # A collection the user cannot see is searched as an empty one, never revealed.
        collection_ids = [chosen] if visible is None or chosen in visible else []
    hits = search_text(query, collection_ids=collection_ids, limit=TEXT_HITS) if query else []
    items = Item.objects.select_related("collection").in_bulk([hit.item_id for hit in hits])
    context = {
        "query": query, "chosen": chosen,
        "collections": collection_choices(user=request.user),
        "hits": [(hit, items[hit.item_id]) for hit in hits if hit.item_id in items],
        "limit": TEXT_HITS,
    }
    return render(request, "svidok/text_search.html", context)


@item_view(Permission.REVEAL_PROTECTED)
@post_only
def reveal_field(request: HttpRequest, item: Item, acquisition_id: uuid.UUID,
                 field: str) -> HttpResponse:
    """Show one protected value to a role allowed to see it; the reveal is logged first."""
    acquisition = item.acquisitions.filter(id=acquisition_id).first()
    if acquisition is None:
        raise Http404("not found")
    acquisition.item = item
    try:
        value = protected_reveal(user=request.user, acquisition=acquisition, field=field,
                                 actor=_actor(request))
    except (InvalidInput, NotFound) as exc:
        raise Http404("not found") from exc
    return render(request, "svidok/revealed.html", {"value": value, "item": item})


@item_view(Permission.VIEW_ITEMS)
def item_proof(request: HttpRequest, item: Item) -> HttpResponse:
    """Check the item's custody events against the latest signed head, and show how."""
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=_actor(request), details={"page": "proof"})
    bundle = log_item_proof(item_id=item.id)
    try:
        verify_proof_bundle(bundle, trusted_public_key=instance_public_key())
        failure = None
    except VerificationError as exc:
        failure = exc.message
    events = [
        {"index": entry["index"], "event": json.loads(entry["event"]),
         "proof_length": len(entry["proof"])}
        for entry in bundle["events"]
    ]
    context = {"item": item, "head": bundle["head"], "events": events, "failure": failure,
               "public_key": bundle["public_key"]}
    return render(request, "svidok/proof.html", context, status=200 if failure is None else 409)


@item_view(Permission.DOWNLOAD)
def item_download(request: HttpRequest, item: Item) -> FileResponse:
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.DOWNLOADED,
                      actor=_actor(request))
    stream = instance_store().open(Digest(item.sha256))
    # Served as an attachment of a neutral type: evidence is never rendered inline
    # by the browser, whatever its bytes claim to be.
    return FileResponse(stream, as_attachment=True, filename=item.original_name,
                        content_type="application/octet-stream")


@signed_in
def clusters(request: HttpRequest) -> HttpResponse:
    """Groups of near-duplicate images in the user's collections, earliest copy first."""
    collection_ids = visible_collection_ids(user=request.user)
    hashes = matchable_item_count(collection_ids=collection_ids)
    if hashes > CLUSTERS_ON_THE_FLY:
        # Grouping compares all pairs; on a page request that would tie up a worker.
        return render(request, "svidok/clusters.html", {"groups": [], "too_many": hashes,
                                                         "limit": CLUSTERS_ON_THE_FLY})
    groups = near_duplicate_clusters(collection_ids=collection_ids)
    return render(request, "svidok/clusters.html", {"groups": groups})


@item_view(Permission.VIEW_ITEMS)
def item_similar(request: HttpRequest, item: Item) -> HttpResponse:
    """Near-duplicates of the item in the user's collections (loaded after the page)."""
    video = item_video_query(item)
    if video is not None:
        found = similar_videos(query=video, exclude=item,
                               collection_ids=visible_collection_ids(user=request.user))
        return render(request, "svidok/similar.html",
                      {"item": item, "videos": found, "hashed": True, "is_video": True})
    matches = similar_to_item(item=item,
                              collection_ids=visible_collection_ids(user=request.user))
    return render(request, "svidok/similar.html",
                  {"item": item, "matches": matches or [], "hashed": matches is not None})


@item_view(Permission.EXPORT)
def item_export_zip(request: HttpRequest, item: Item) -> FileResponse:
    """Original, metadata and custody proof bundle in one ZIP (recorded as an export)."""
    archive = item_export_archive(item=item, actor=_actor(request))
    return FileResponse(archive, as_attachment=True, filename=f"svidok-{item.sha256[:16]}.zip",
                        content_type="application/zip")


@item_view(Permission.VIEW_ITEMS)
def derived_file(request: HttpRequest, item: Item, derived_id: uuid.UUID) -> FileResponse:
    derived = item.derived.filter(id=derived_id, media_type="image/jpeg").first()
    if derived is None:
        raise Http404("not found")
    return FileResponse(instance_store().open(Digest(derived.sha256)), content_type="image/jpeg")


