"""Reading the text of items and the state of the extraction queue."""

from __future__ import annotations

from django.db.models import Count

from svidok.apps.evidence.models import Item
from svidok.apps.text.models import ItemText, TextExtraction


def item_text_pages(*, item: Item, limit: int | None = None) -> list[ItemText]:
    """The item's text, page by page (empty until extraction is done, or if none was
    found); the first ``limit`` pages only when given (long PDFs hold thousands)."""
    pages = ItemText.objects.filter(item=item).order_by("page")
    return list(pages[:limit] if limit is not None else pages)


def item_extraction(*, item: Item) -> TextExtraction | None:
    """The item's place in text extraction; None if it was never queued."""
    row: TextExtraction | None = TextExtraction.objects.filter(item=item).first()
    return row


def extraction_counts() -> dict[str, int]:
    """How many items are in each state, every state named (zero included)."""
    counts = {str(status): 0 for status in TextExtraction.Status.values}
    grouped = TextExtraction.objects.values_list("status").annotate(n=Count("item")).order_by()
    for status, count in grouped:
        counts[status] = count
    return counts
