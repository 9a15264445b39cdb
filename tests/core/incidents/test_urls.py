"""Canonical web addresses: one post cited through different addresses is one key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from svidok.core.incidents.urls import normalise_url, url_key

SAME_POST = [
    # Host aliases, mobile hosts, share parameters and photo views of one tweet.
    ("https://twitter.com/AlexanderLouri4/status/1496761690561683456?s=20&t=AjOjSdcrpAlShDB8",
     "https://x.com/alexanderlouri4/status/1496761690561683456"),
    ("https://mobile.twitter.com/alexanderlouri4/status/1496761690561683456/photo/1",
     "https://x.com/alexanderlouri4/status/1496761690561683456"),
    ("http://www.x.com/AlexanderLouri4/status/1496761690561683456/#fragment",
     "https://x.com/alexanderlouri4/status/1496761690561683456"),
    # Telegram's web preview and bare citations.
    ("https://t.me/s/vorposte/13720", "https://t.me/vorposte/13720"),
    ("t.me/Vorposte/13720/", "https://t.me/vorposte/13720"),
    ("https://telegram.me/vorposte/13720?single", "https://t.me/vorposte/13720"),
    # YouTube's many forms of one video.
    ("https://youtu.be/mQYvo2YyFVs?t=31", "https://youtube.com/watch?v=mQYvo2YyFVs"),
    ("https://www.youtube.com/shorts/mQYvo2YyFVs", "https://youtube.com/watch?v=mQYvo2YyFVs"),
    ("https://m.youtube.com/watch?feature=share&v=mQYvo2YyFVs&si=abc",
     "https://youtube.com/watch?v=mQYvo2YyFVs"),
    ("https://www.youtube.com/embed/mQYvo2YyFVs", "https://youtube.com/watch?v=mQYvo2YyFVs"),
    # Facebook keeps what names the post and nothing else.
    ("https://www.facebook.com/story.php?story_fbid=317408247086919&id=100064532388988"
     "&__cft__[0]=AZX&__tn__=%2CO%2CP-R",
     "https://facebook.com/story.php?id=100064532388988&story_fbid=317408247086919"),
    ("https://m.facebook.com/story.php?id=100064532388988&story_fbid=317408247086919&mibextid=1",
     "https://facebook.com/story.php?id=100064532388988&story_fbid=317408247086919"),
    # Tracking parameters in general; other parameters sorted; default port dropped.
    ("HTTP://News.Example.COM:80/a/b/?utm_source=tw&utm_medium=x&b=2&a=1&fbclid=Q&gclid=Z",
     "https://news.example.com/a/b?a=1&b=2"),
    ("https://www.tiktok.com/@kostyan_1986_/video/7059752758785658118?is_copy_url=1&t=16",
     "https://tiktok.com/@kostyan_1986_/video/7059752758785658118"),
    ("https://www.instagram.com/p/CaXyz123/?igshid=MDJmNzVkMjY=",
     "https://instagram.com/p/CaXyz123"),
]


@pytest.mark.parametrize(("cited", "canonical"), SAME_POST, ids=lambda v: v[:45])
def test_normalises_to_one_form(cited, canonical):
    assert normalise_url(cited) == canonical


@pytest.mark.parametrize("kept", [
    "https://t.me/c/1348181349/19454",  # private-channel links: numbers, not names
    "https://t.me/+AbCdEf123",  # invite hashes are case-sensitive
    "https://example.com:8443/Path/Case",  # paths are case-sensitive in general
    "https://youtube.com/results?search_query=kharkiv",
])
def test_leaves_what_identifies_a_page_alone(kept):
    assert normalise_url(kept) == kept


@pytest.mark.parametrize("not_an_address", [
    "", "   ", "HIDDEN", "hidden", "facebook", "Link", "Access can be requested, hidden",
    "javascript:alert(1)", "mailto:someone@example.com", "ftp://x.com/file",
    "https://exa mple.com/", "https://[::1/", "https://" + "a" * 5000 + ".com",
])
def test_refuses_what_is_not_a_web_address(not_an_address):
    assert normalise_url(not_an_address) is None
    assert url_key(not_an_address) is None


def test_url_key_identifies_a_tweet_by_its_number():
    assert url_key("https://twitter.com/Michael1Sheldon/status/1496717647089651716?s=20") == (
        url_key("https://x.com/i/status/1496717647089651716")) == (
        "x.com/i/status/1496717647089651716")


def test_url_key_of_other_sites_is_the_canonical_form_without_scheme():
    assert url_key("https://www.t.me/s/x/1") == "t.me/x/1"


@given(st.text(max_size=200))
def test_never_raises_and_is_idempotent(text):
    canonical = normalise_url(text)
    if canonical is not None:
        assert normalise_url(canonical) == canonical
