"""Canonical forms of web addresses, so that one post cited by two datasets is
recognised as one source.

Datasets cite the same post through many addresses: ``twitter.com`` and
``x.com``, ``t.me/s/…`` (Telegram's web preview) and ``t.me/…``, ``youtu.be``
and ``youtube.com/watch``, mobile hosts, and share links loaded with tracking
parameters (``?s=20&t=…``, ``utm_source``, ``fbclid``). :func:`normalise_url`
removes those differences and nothing else; :func:`url_key` goes further and
keeps only what identifies the post, for equality tests.

The canonical form is for matching and display; the address exactly as cited
upstream is kept alongside it, because that is what the dataset said.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 4096  # longer "addresses" are pasted text, not links

# Hosts that serve the same pages as the host without the prefix.
_MIRROR_PREFIXES = ("www.", "m.", "mobile.")
_FACEBOOK_MIRROR_PREFIXES = ("web.", "mbasic.", "touch.")
_HOST_ALIASES = {"twitter.com": "x.com", "telegram.me": "t.me", "fb.com": "facebook.com",
                 "youtube-nocookie.com": "youtube.com"}

# Parameters that record who shared a link or how, never what it points to.
_TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "igsh", "si", "ref", "ref_src",
    "ref_url", "mc_cid", "mc_eid", "_ga", "mibextid", "feature", "share_id",
})
# On these hosts a post is named by its path (and a few parameters); other
# parameters are share-sheet noise: x.com's ?s=20&t=…, TikTok's ?is_from_webapp=…
_KEEP_ONLY = {
    "x.com": frozenset({"q", "f"}),  # search pages keep their query
    "t.me": frozenset(),
    "tiktok.com": frozenset(),
    "instagram.com": frozenset(),
    "facebook.com": frozenset({"story_fbid", "id", "fbid", "v", "set"}),
}
_YOUTUBE_PATH = re.compile(r"^/(?:shorts|embed|live|v)/([A-Za-z0-9_-]{6,})$")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,}$")
_TELEGRAM_POST = re.compile(r"^/(?:s/)?([A-Za-z0-9_]+)(/\d+)?$")
_TWEET = re.compile(r"^/([A-Za-z0-9_]+)/status(?:es)?/(\d+)")
_SPACE = re.compile(r"\s")
_HOST = re.compile(r"^[^\s/@:]+\.[^\s/@:]+$")


def normalise_url(url: str) -> str | None:
    """The canonical ``https://`` form of ``url``, or ``None`` if it is not a web
    address (empty, ``HIDDEN``, free text, another scheme).

    Scheme and host are lower-cased, ``www.``/``m.``/``mobile.`` dropped,
    twitter.com becomes x.com, fragments, tracking parameters and trailing
    slashes go, and the remaining parameters are sorted. A missing scheme is
    taken as https, since datasets often cite ``t.me/channel/1`` bare.
    """
    text = url.strip() if isinstance(url, str) else ""
    if not text or len(text) > MAX_URL_LENGTH or _SPACE.search(text):
        return None
    if "://" not in text:
        if not _HOST.match(text.split("/", 1)[0]):
            return None
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # malformed brackets or port
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = _canonical_host(parts.hostname)
    if not _HOST.match(host):
        return None
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(key)]
    host, path, query = _site_rules(host, path, query)
    kept = _KEEP_ONLY.get(host.split(":")[0])
    if kept is not None:
        query = [(key, value) for key, value in query if key in kept]
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def url_key(url: str) -> str | None:
    """A key equal for two addresses of the same post: the canonical form without
    its scheme, and for posts on x.com only the post number (the account name in
    a tweet's address can be anything, x.com redirects by number)."""
    canonical = normalise_url(url)
    if canonical is None:
        return None
    without_scheme = canonical.removeprefix("https://")
    tweet = _TWEET.match(without_scheme.removeprefix("x.com"))
    if without_scheme.startswith("x.com/") and tweet:
        return f"x.com/i/status/{tweet.group(2)}"
    return without_scheme


def _is_tracking(key: str) -> bool:
    return key.lower().startswith("utm_") or key.lower() in _TRACKING


def _canonical_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    for prefix in _MIRROR_PREFIXES:
        host = host.removeprefix(prefix)
    if host.endswith("facebook.com"):
        for prefix in _FACEBOOK_MIRROR_PREFIXES:
            host = host.removeprefix(prefix)
    return _HOST_ALIASES.get(host, host)


def _site_rules(
    host: str, path: str, query: list[tuple[str, str]]
) -> tuple[str, str, list[tuple[str, str]]]:
    """Per-site forms of the same post."""
    if host in ("youtube.com", "youtu.be"):
        return "youtube.com", *_youtube(host, path, query)
    if host == "t.me":
        post = _TELEGRAM_POST.match(path)
        # Channel names are case-insensitive; invite links (t.me/+…, /joinchat/…) are not.
        if post and post.group(1).lower() not in ("c", "joinchat", "s"):
            path = "/" + post.group(1).lower() + (post.group(2) or "")
        elif path.startswith("/s/"):
            path = path[2:]
    elif host == "x.com":
        tweet = _TWEET.match(path)
        if tweet:  # /photo/1, /video/1, /analytics are views of the same post
            path = f"/{tweet.group(1).lower()}/status/{tweet.group(2)}"
    return host, path, query


def _youtube(
    host: str, path: str, query: list[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    """youtu.be/ID, /shorts/ID, /embed/ID and /live/ID all become /watch?v=ID;
    the time offset (``t``) is dropped: it picks a moment, not a video."""
    short = _YOUTUBE_PATH.match(path)
    if short:
        return "/watch", [("v", short.group(1))]
    if host == "youtu.be" and _YOUTUBE_ID.match(path[1:]):
        return "/watch", [("v", path[1:])]
    if path == "/watch":
        return path, [(key, value) for key, value in query if key == "v"]
    return path, query
