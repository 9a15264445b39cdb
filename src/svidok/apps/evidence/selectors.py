"""Reading evidence."""

from __future__ import annotations

import re
import uuid

from svidok.apps.evidence.models import Item
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
