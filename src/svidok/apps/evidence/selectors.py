"""Reading evidence."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from svidok.apps.accounts.permissions import (
    role_in,
    visible_collection_ids,
    visible_collections,
)
from svidok.apps.evidence.models import Acquisition, Collection, Item
from svidok.core.errors import InvalidInput, NotFound

_HEX_PREFIX = re.compile(r"^(sha256:)?[0-9a-fA-F]{8,64}$")


def item_resolve(*, reference: str) -> Item:
    """An item by its id, or by its SHA-256 (``sha256:``-prefixed or not, at least 8 hex digits).

    A hash held in several collections is ambiguous and refused, naming the items.
    """
    text = reference.strip()
    try:
        return Item.objects.get(id=uuid.UUID(text))
    except ValueError:
        pass
    except Item.DoesNotExist as exc:
        raise NotFound(f"no item with id {text}") from exc
    if not _HEX_PREFIX.match(text):
        raise InvalidInput(
            f"expected an item id (UUID) or a SHA-256 (8 to 64 hex digits), got {text!r:.80}"
        )
    prefix = text.lower().removeprefix("sha256:")
    matches = list(Item.objects.filter(sha256__startswith=prefix)[:5])
    if not matches:
        raise NotFound(f"no item whose SHA-256 starts with {prefix}")
    if len(matches) > 1:
        ids = ", ".join(str(m.id) for m in matches)
        raise InvalidInput(f"{prefix} matches several items ({ids}); give an item id")
    return matches[0]


def item_list(*, collection: str | None = None, limit: int = 100) -> list[Item]:
    """The most recently ingested items, optionally of one collection."""
    items = Item.objects.select_related("collection").order_by("-created_at")
    if collection is not None:
        items = items.filter(collection__name=collection)
    return list(items[:limit])


SORTS = {
    "ingested": "created_at",
    "name": "original_name",
    "size": "size",
    "type": "media_type",
}
MEDIA_KINDS = {"image": "image/", "video": "video/", "audio": "audio/",
               "document": "application/", "text": "text/"}


@dataclass(frozen=True)
class ItemFilters:
    """What a user may narrow an item list by; every field is optional.

    ``sort`` is one of :data:`SORTS`, ``-`` in front for descending.
    """

    collection: int | None = None
    media: str = ""  # a kind from MEDIA_KINDS, or an exact media type
    ingested_from: date | None = None
    ingested_to: date | None = None
    source: str = ""  # matched against acquisition URL and collector
    sha256_prefix: str = ""
    query: str = ""  # a file name fragment, or a hash prefix
    flagged: bool | None = None
    sort: str = "-ingested"

    def __post_init__(self) -> None:
        for name in ("media", "source", "sha256_prefix", "query"):
            if "\x00" in getattr(self, name):  # PostgreSQL cannot even compare with NUL
                raise InvalidInput(f"{name} contains a NUL character; expected plain text")
        if self.collection is not None and not 1 <= self.collection < 2**63:
            raise InvalidInput(f"no collection can have the id {self.collection}")
        if self.sort.lstrip("-") not in SORTS:
            raise InvalidInput(f"cannot sort by {self.sort!r}; expected one of "
                               + ", ".join(sorted(SORTS)) + " (prefix - for descending)")
        prefix = self.sha256_prefix.lower().removeprefix("sha256:")
        if prefix and not re.fullmatch(r"[0-9a-f]{1,64}", prefix):
            raise InvalidInput(f"a hash prefix is hexadecimal, got {self.sha256_prefix!r:.80}")


def items_visible(*, user: Any, filters: ItemFilters) -> QuerySet[Item]:
    """The items this user may see, narrowed and ordered by ``filters``."""
    visible = visible_collection_ids(user=user)
    items = Item.objects.all()
    if filters.collection is not None:
        if visible is not None and filters.collection not in visible:
            return Item.objects.none()
        items = items.filter(collection_id=filters.collection)
    elif visible is not None:
        items = (items.filter(collection_id=visible[0]) if len(visible) == 1
                 else items.filter(collection_id__in=visible))
    if filters.media:
        kind = MEDIA_KINDS.get(filters.media)
        items = (items.filter(media_type__startswith=kind) if kind
                 else items.filter(media_type=filters.media))
    if filters.ingested_from is not None:
        items = items.filter(created_at__date__gte=filters.ingested_from)
    if filters.ingested_to is not None:
        items = items.filter(created_at__date__lte=filters.ingested_to)
    if filters.source:
        items = items.filter(
            Exists(Acquisition.objects.filter(
                Q(source_url__icontains=filters.source) | Q(collected_by__icontains=filters.source),
                item=OuterRef("pk"))))
    if filters.sha256_prefix:
        items = items.filter(
            sha256__startswith=filters.sha256_prefix.lower().removeprefix("sha256:"))
    query = filters.query.strip()
    if query:
        bare = query.lower().removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{6,64}", bare):
            items = items.filter(Q(sha256__startswith=bare) | Q(original_name__icontains=query))
        else:
            items = items.filter(original_name__icontains=query)
    if filters.flagged is not None:
        items = items.filter(flagged=filters.flagged)
    field = SORTS[filters.sort.lstrip("-")]
    direction = "-" if filters.sort.startswith("-") else ""
    # The id breaks ties, so pages never repeat or skip items of equal sort keys.
    return items.order_by(direction + field, direction + "id")


def items_page(*, user: Any, filters: ItemFilters, number: Any, size: int) -> Page[Item]:
    """One page of :func:`items_visible`, fetched in two steps.

    The page's ids come first, read from an index alone; only then are those rows
    and their collections read. Skipping to page 2,000 of a collection thus walks
    index entries instead of loading and joining 100,000 rows (measured on
    SQLite: 780 ms → a few ms).
    """
    ids = items_visible(user=user, filters=filters).values_list("id", flat=True)
    page = Paginator(ids, size).get_page(number)
    wanted = list(page.object_list)
    rows = {item.id: item for item in Item.objects.filter(id__in=wanted)}
    collections = Collection.objects.in_bulk({item.collection_id for item in rows.values()})
    for item in rows.values():
        item.collection = collections[item.collection_id]
    page.object_list = [rows[item_id] for item_id in wanted if item_id in rows]
    return page


def collection_choices(*, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the user's collections, for menus (no counting)."""
    return list(visible_collections(user=user).order_by("name").values_list("id", "name"))


def collections_visible(*, user: Any) -> list[dict[str, Any]]:
    """The user's collections with their item counts and the user's role in each."""
    collections = visible_collections(user=user).annotate(item_count=Count("items")).order_by(
        "name")
    return [
        {"collection": c, "items": c.item_count, "role": role_in(user=user, collection=c)}
        for c in collections
    ]
