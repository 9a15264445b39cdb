"""Web pages for incidents: the list with facets, one incident, the map, the timeline,
the verification queue, the duplicate review and the exports."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from svidok.apps.accounts.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    can,
    role_in,
    visible_collections,
)
from svidok.apps.evidence.models import Item
from svidok.apps.incidents import deduplication, exports, services
from svidok.apps.incidents.alerts import incident_alerts
from svidok.apps.incidents.labels import translated
from svidok.apps.incidents.models import (
    DuplicateCandidate,
    Incident,
    IncidentMerge,
    IncidentRelation,
    Source,
)
from svidok.apps.incidents.presenting import incident_json
from svidok.apps.incidents.protected import person_reveal
from svidok.apps.incidents.selectors import (
    LOCAL,
    IncidentFilters,
    facets_and_total,
    incident_facets,
    incident_for,
    incidents_filtered,
    region_choices,
    verification_queue,
)
from svidok.core.errors import Forbidden, InvalidInput, NotFound
from svidok.core.geo.places import shipped_polygons
from svidok.core.incidents.verification import (
    AssessmentKind,
    ChronolocationMethod,
    Confidence,
    Verdict,
)
from svidok.core.incidents.vocab import (
    Connection,
    Fact,
    ObjectType,
    Reliability,
    SourceKind,
    Status,
    TimePrecision,
    Weapon,
)
from svidok.web.access import post_only, signed_in

PAGE_SIZE = 50
MAP_LIMIT = 20_000
View = Callable[..., HttpResponse]


def incident_view(permission: Permission) -> Callable[[View], View]:
    """The view gets the incident named by ``incident_id`` once ``permission`` is granted."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, incident_id: uuid.UUID, **kwargs: Any) -> HttpResponse:
            try:
                incident = incident_for(user=request.user, incident_id=incident_id,
                                        permission=permission)
            except NotFound as exc:
                raise Http404("not found") from exc
            except Forbidden as exc:
                return HttpResponseForbidden(exc.message)
            return view(request, incident, **kwargs)

        wrapped = login_required(guarded)
        wrapped.svidok_rule = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: expected a date (YYYY-MM-DD), found {value[:40]!r}") from exc


def filters_of(request: HttpRequest) -> IncidentFilters:
    get = request.GET
    collection = get.get("collection", "")
    children = {"yes": True, "no": False}.get(get.get("children", ""))
    start_from, start_to = _day(get.get("from", ""), "from"), _day(get.get("to", ""), "to")
    if get.get("month"):  # a month facet: its first to its last day
        first = _day(get["month"][:7] + "-01", "month")
        if first is not None:
            start_from = first
            start_to = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return IncidentFilters(
        collection=int(collection) if collection.isdigit() and len(collection) < 19 else None,
        oblast=get.get("oblast", "")[:4], start_from=start_from,
        start_to=start_to, weapon=get.get("weapon", "")[:40],
        object_type=get.get("object", "")[:40], status=get.get("status", "")[:20],
        children=children, dataset=get.get("dataset", "")[:60], text=get.get("q", "")[:300])


def _filtered(request: HttpRequest) -> tuple[Any, IncidentFilters, str | None]:
    try:
        filters = filters_of(request)
        return incidents_filtered(user=request.user, filters=filters), filters, None
    except InvalidInput as exc:
        filters = IncidentFilters()
        return incidents_filtered(user=request.user, filters=filters), filters, exc.message


def _choices(vocabulary: type) -> list[tuple[str, str]]:
    return [(m.value, translated(m.label)) for m in vocabulary]


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


class Counted:
    """A query whose number of rows is already known (counting 100,000 rows in SQLite
    costs more than the rest of the page)."""

    def __init__(self, rows: Any, total: int) -> None:
        self.rows, self.total = rows, total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]


@signed_in
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents of the user's collections with facets, filters and pages."""
    incidents, filters, error = _filtered(request)
    facets, total = facets_and_total(user=request.user, filters=filters,
                                     language=get_language())
    page = Paginator(Counted(incidents.order_by("-start", "id"), total), PAGE_SIZE).get_page(
        request.GET.get("page"))
    facet_params = {"oblast": "oblast", "month": "month", "weapon": "weapon",
                    "object_type": "object", "status": "status", "children": "children"}
    context = {
        "page": page, "error": error, "values": request.GET, "filters": filters,
        "facets": [(f.name, facet_params[f.name],
                    [(code, translated(label), n) for code, label, n in f.values])
                   for f in facets],
        "query": _query_without(request, "page"),
        "collections": [(c.id, c.name) for c in visible_collections(user=request.user)],
        "regions": region_choices(get_language()), "weapons": _choices(Weapon),
        "objects": _choices(ObjectType), "statuses": _choices(Status),
    }
    return render(request, "svidok/incidents/list.html", context, status=400 if error else 200)


def _detail_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    collection = incident.collection
    links = list(incident.links.select_related("item").order_by("created_at"))
    thumbnails = {d.item_id: d.id for link in links for d in link.item.derived.all()
                  if d.kind == "thumbnail"}
    return {
        "incident": incident, "data": incident_json(incident),
        "citations": incident.citations.select_related("source").order_by("source__created_at"),
        "links": [(link, thumbnails.get(link.item_id)) for link in links],
        "assessments": incident.assessments.order_by("-created_at"),
        "changes": incident.changes.order_by("-created_at")[:100],
        "alerts": incident_alerts(incident),
        "merged_from": incident.merged.all(),
        "related": [(r.target, r.get_kind_display(), r.note)
                    for r in incident.relations.select_related("target")]
        + [(r.source, r.get_kind_display(), r.note)
           for r in IncidentRelation.objects.filter(target=incident).select_related("source")],
        "can_assess": can(user=request.user, permission=Permission.ASSESS,
                          collection=collection),
        "can_edit": can(user=request.user, permission=Permission.INGEST, collection=collection),
        "can_reveal": can(user=request.user, permission=Permission.REVEAL_PROTECTED,
                          collection=collection),
        "items": Item.objects.filter(collection=collection).order_by("-created_at")[:200],
        "kinds": _choices(AssessmentKind), "verdicts": _choices(Verdict),
        "confidences": _choices(Confidence), "methods": _choices(ChronolocationMethod),
        "facts": _choices(Fact), "source_kinds": _choices(SourceKind),
        "reliabilities": _choices(Reliability), "connections": _choices(Connection),
    }


@incident_view(Permission.VIEW_ITEMS)
def incident_detail(request: HttpRequest, incident: Incident) -> HttpResponse:
    """One incident: facts, map, sources and changes over time, evidence, assessments."""
    return render(request, "svidok/incidents/detail.html", _detail_context(request, incident))


def _number(value: str, what: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: expected a number, found {value[:40]!r}") from exc


def _utc_moment(value: str, what: str) -> datetime | None:
    """A datetime-local form value, read as UTC (the form says so)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: expected a date and time, found {value[:40]!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _form_error(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    context = _detail_context(request, incident)
    context["form_error"] = message
    return render(request, "svidok/incidents/detail.html", context)


@incident_view(Permission.ASSESS)
@post_only
def incident_assess(request: HttpRequest, incident: Incident) -> HttpResponse:
    """Record the signed-in verifier's assessment; the page shows the new status."""
    post = request.POST
    try:
        data = services.AssessmentInput(
            kind=post.get("kind", ""), verdict=post.get("verdict", ""),
            confidence=post.get("confidence", ""), notes=post.get("notes", "")[:20_000],
            latitude=_number(post.get("latitude", ""), "latitude"),
            longitude=_number(post.get("longitude", ""), "longitude"),
            time_from=_utc_moment(post.get("time_from", ""), "from"),
            time_to=_utc_moment(post.get("time_to", ""), "to"),
            method=post.get("method", ""))
        _assessment, status = services.incident_assess(
            incident=incident, data=data, verifier=request.user.get_username(),
            actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        return _form_error(request, incident, exc.message)
    messages.success(request, _("Assessment recorded. Status: %(status)s.") % {
        "status": Status(status).label})
    return redirect("incident", incident_id=incident.id)


@incident_view(Permission.INGEST)
@post_only
def incident_cite(request: HttpRequest, incident: Incident) -> HttpResponse:
    """Cite a source: a web address, a person (by role; identity protected), an
    organisation or a document."""
    post = request.POST
    try:
        services.source_cite(
            incident=incident, kind=post.get("kind", ""), url=post.get("url", "")[:4000],
            title=post.get("title", "")[:2000], description=post.get("description", "")[:20_000],
            reliability=post.get("reliability", ""), connection=post.get("connection", ""),
            person=post.get("person", "")[:1000], actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        return _form_error(request, incident, exc.message)
    messages.success(request, _("Source cited."))
    return redirect("incident", incident_id=incident.id)


@signed_in
def incident_new(request: HttpRequest) -> HttpResponse:
    """Enter an incident by hand into a collection where the user may add material."""
    targets = [c for c in visible_collections(user=request.user)
               if can(user=request.user, permission=Permission.INGEST, collection=c)]
    context: dict[str, Any] = {"targets": targets, "weapons": _choices(Weapon),
                               "objects": _choices(ObjectType),
                               "precisions": _choices(TimePrecision), "values": request.POST}
    if request.method != "POST":
        return render(request, "svidok/incidents/new.html", context)
    post = request.POST
    collection = next((c for c in targets if str(c.id) == post.get("collection")), None)
    try:
        if collection is None:
            raise InvalidInput(_("Choose a collection you may add to."))
        fields: dict[str, Any] = {
            "title": post.get("title", "")[:2000], "description": post.get("description", ""),
            "time_precision": post.get("time_precision", "day"),
            "start": _utc_moment(post.get("start", ""), "start"),
            "latitude": _number(post.get("latitude", ""), "latitude"),
            "longitude": _number(post.get("longitude", ""), "longitude"),
            "location_text": post.get("location_text", "")[:2000],
            "weapons": post.getlist("weapons"), "objects_hit": post.getlist("objects"),
        }
        incident = services.incident_create(collection=collection, fields=fields,
                                            actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "svidok/incidents/new.html", context, status=400)
    messages.success(request, _("Incident recorded."))
    return redirect("incident", incident_id=incident.id)


@incident_view(Permission.INGEST)
@post_only
def incident_link(request: HttpRequest, incident: Incident) -> HttpResponse:
    """Link an item of the incident's collection, with the fact it supports."""
    item_id = request.POST.get("item", "")
    try:
        item = Item.objects.filter(id=uuid.UUID(item_id), collection=incident.collection).first()
    except ValueError:
        item = None
    if item is None:
        return _form_error(request, incident, _("Choose an item of this collection."))
    try:
        services.incident_link_item(incident=incident, item=item,
                                    fact=request.POST.get("fact", ""),
                                    note=request.POST.get("note", "")[:5000],
                                    actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        return _form_error(request, incident, exc.message)
    messages.success(request, _("Evidence linked."))
    return redirect("incident", incident_id=incident.id)


def source_reveal_view() -> View:
    """A person source's identity, to a role allowed to see it; the reveal is logged first."""

    @post_only
    def reveal(request: HttpRequest, source_id: uuid.UUID) -> HttpResponse:
        source = Source.objects.select_related("collection").filter(id=source_id).first()
        if source is None:
            raise Http404("not found")
        try:
            value = person_reveal(user=request.user, source=source,
                                  actor=f"web:{request.user.get_username()}")
        except NotFound as exc:
            raise Http404("not found") from exc
        except Forbidden as exc:
            return HttpResponseForbidden(exc.message)
        return render(request, "svidok/revealed.html", {"value": value})

    wrapped = login_required(reveal)
    wrapped.svidok_rule = Permission.REVEAL_PROTECTED  # type: ignore[attr-defined]
    wrapped.svidok_methods = ("POST",)  # type: ignore[attr-defined]
    return wrapped


source_reveal = source_reveal_view()


@signed_in
def incident_map(request: HttpRequest) -> HttpResponse:
    """All filtered incidents on a map: oblast polygons offline, tiles when configured."""
    _incidents, _filters, error = _filtered(request)
    context = {"error": error, "values": request.GET, "query": request.GET.urlencode(),
               "tiles": settings.SVIDOK_MAP_TILES}
    return render(request, "svidok/incidents/map.html", context)


@signed_in
def incident_points(request: HttpRequest) -> HttpResponse:
    """The filtered incidents with coordinates, as GeoJSON for the map."""
    incidents, _filters, error = _filtered(request)
    if error:
        return JsonResponse({"message": error, "extra": {}}, status=400)
    rows = (incidents.exclude(latitude=None).exclude(longitude=None).order_by("-start", "id")
            .values_list("id", "title", "start", "status", "latitude", "longitude")[:MAP_LIMIT])
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"title": title[:200], "status": status,
                                "start": start.date().isoformat() if start else "",
                                "url": reverse("incident", args=[incident_id])}}
                for incident_id, title, start, status, lat, lon in rows]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@signed_in
def oblast_polygons(request: HttpRequest) -> HttpResponse:
    """The shipped oblast polygons: the map's offline base layer."""
    response = JsonResponse(shipped_polygons())
    response["Cache-Control"] = "private, max-age=86400"
    return response


@signed_in
def incident_timeline(request: HttpRequest) -> HttpResponse:
    """The filtered incidents month by month, newest month first."""
    incidents, filters, error = _filtered(request)
    months: dict[str, list[Incident]] = {}
    for incident in incidents.exclude(start=None).order_by("-start", "id")[:2000]:
        local = incident.start.astimezone(LOCAL)  # type: ignore[union-attr]
        months.setdefault(local.strftime("%Y-%m"), []).append(incident)
    counts = {f.name: f.values for f in incident_facets(incidents=incidents)}["month"]
    peak = max((count for _code, _label, count in counts), default=1)
    context = {"error": error, "values": request.GET, "query": request.GET.urlencode(),
               "bars": [(month, count, round(100 * count / peak)) for month, _label, count in
                        reversed(counts)],
               "months": list(months.items())}
    return render(request, "svidok/incidents/timeline.html", context)


@signed_in
def verification(request: HttpRequest) -> HttpResponse:
    """What waits for verification where the user may assess, and for whom."""
    return render(request, "svidok/incidents/queue.html",
                  {"entries": verification_queue(user=request.user)})


def _may_decide(request: HttpRequest) -> list[int]:
    return [c.id for c in visible_collections(user=request.user)
            if (role := role_in(user=request.user, collection=c)) is not None
            and Permission.INGEST in ROLE_PERMISSIONS[role]]


@signed_in
def duplicates(request: HttpRequest) -> HttpResponse:
    """Candidate pairs waiting for review, best first, and the recent merges."""
    allowed = _may_decide(request)
    pending = (DuplicateCandidate.objects.filter(collection_id__in=allowed,
                                                 status=DuplicateCandidate.PENDING)
               .select_related("first", "second").order_by("-score", "id")[:100])
    merges = (IncidentMerge.objects.filter(kept__collection_id__in=allowed,
                                           undone_at__isnull=True)
              .select_related("kept", "merged").order_by("-created_at")[:50])
    return render(request, "svidok/incidents/duplicates.html",
                  {"pending": pending, "merges": merges})


@signed_in
@post_only
def duplicate_decide(request: HttpRequest) -> HttpResponse:
    """Confirm (merge) or reject one candidate pair."""
    candidate_id = request.POST.get("candidate", "")
    candidate = (DuplicateCandidate.objects.filter(id=int(candidate_id),
                                                   collection_id__in=_may_decide(request))
                 .select_related("first", "second").first()
                 if candidate_id.isdigit() and len(candidate_id) < 19 else None)
    if candidate is None:
        messages.error(request, _("No such pair to decide."))
        return redirect("duplicates")
    try:
        deduplication.candidate_decide(candidate=candidate,
                                       same=request.POST.get("decision") == "same",
                                       actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("duplicates")


@signed_in
@post_only
def merge_undo(request: HttpRequest) -> HttpResponse:
    """Undo a merge: both incidents back as they were."""
    try:
        merge_id = uuid.UUID(request.POST.get("merge", ""))
    except ValueError:
        merge_id = None
    merge = (IncidentMerge.objects.filter(id=merge_id, kept__collection_id__in=_may_decide(
        request)).first() if merge_id else None)
    if merge is None:
        messages.error(request, _("No such merge."))
        return redirect("duplicates")
    try:
        deduplication.merge_undo(merge=merge, actor=f"web:{request.user.get_username()}")
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Merge undone."))
    return redirect("duplicates")


@signed_in
def incident_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered incidents of collections where the user may export, as CSV or
    GeoJSON; ``?public=1`` blurs coordinates and drops what must not be published."""
    incidents, _filters, error = _filtered(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    exportable = [c.id for c in visible_collections(user=request.user)
                  if can(user=request.user, permission=Permission.EXPORT, collection=c)]
    public = request.GET.get("public") == "1"
    chosen = incidents.filter(collection_id__in=exportable).order_by("start", "id")
    body, content_type = exports.render(chosen, fmt=fmt, public=public,
                                        decimals=settings.SVIDOK_PUBLIC_DECIMALS)
    response = HttpResponse(body, content_type=content_type)
    name = f"incidents{'-public' if public else ''}.{'csv' if fmt == 'csv' else 'geojson'}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
