"""Reading cited sources out of upstream cells.

A source cell may hold one address, several separated by spaces, or words
instead of an address ("Access can be requested, hidden for privacy reasons",
Bellingcat's "HIDDEN"). Every address becomes a source; words without an
address are kept as a source without a URL, so nothing cited is lost.
"""

from __future__ import annotations

import re

from svidok.core.incidents.importers._fields import MAX_LINE, Truncations, one_line
from svidok.core.incidents.records import SourceRef
from svidok.core.incidents.urls import MAX_URL_LENGTH

# "HIDDEN" (Bellingcat), "hidden for privacy reasons", "Link can be requested",
# "You can request access to the file" (CIR): the source exists but is withheld.
_HIDDEN = re.compile(r"\bhidden\b|\brequest(?:ed)?\b", re.IGNORECASE)
# A web address as cited: http(s), then a host with a dot. Canonical forms are
# made later, for matching (svidok.core.incidents.urls); sources keep the original.
_ADDRESS = re.compile(r"https?://[^\s/?#@]+\.[^\s/?#@]+", re.IGNORECASE)
# Cited without a scheme ("t.me/channel/123"): a dotted host name, then a path.
_BARE_ADDRESS = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}/\S+", re.IGNORECASE)


def is_hidden(text: str) -> bool:
    """Whether upstream says the source exists but is withheld (e.g. to protect someone)."""
    return bool(_HIDDEN.search(text))


def sources_in_cell(cell: str, *, title: str, cut: Truncations,
                    upstream_id: str | None = None) -> tuple[SourceRef, ...]:
    """The sources cited by one cell; ``title`` says where they were cited (the column)."""
    text = one_line(cell, name=title, limit=MAX_URL_LENGTH * 4, cut=cut)
    if not text:
        return ()
    tokens = text.split(" ")
    urls = [address for address in map(web_address, tokens) if address]
    if len(urls) == len(tokens):
        return tuple(SourceRef(upstream_id, url, title, "", False) for url in urls)
    # Words with the addresses: keep the words as the description of each source.
    description = one_line(text, name=title, limit=MAX_LINE, cut=cut)
    if not urls:
        return (SourceRef(upstream_id, None, title, description, is_hidden(text)),)
    return tuple(SourceRef(upstream_id, url, title, description, False) for url in urls)


def web_address(token: str) -> str | None:
    """The token as a web address, ``https://`` added when it was cited without one."""
    if len(token) > MAX_URL_LENGTH:
        return None
    if _ADDRESS.match(token):
        return token
    return "https://" + token if _BARE_ADDRESS.fullmatch(token) else None
