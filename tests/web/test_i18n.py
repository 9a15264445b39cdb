"""English and Ukrainian, switchable by the user; the Ukrainian catalog is complete."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser

import polib
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.conftest import REPO, make_jpeg

pytestmark = pytest.mark.django_db
CATALOG = REPO / "src" / "svidok" / "locale" / "uk" / "LC_MESSAGES"


@pytest.fixture
def signed_in(client, svidok_home):
    """A client signed in as a user with no collections."""
    client.force_login(get_user_model().objects.create_user("olena"))
    return client


def test_english_by_default(signed_in):
    body = signed_in.get(reverse("items")).content.decode()
    assert "Evidence items" in body and '<html lang="en">' in body


def test_switching_to_ukrainian_sticks(signed_in):
    response = signed_in.post(reverse("set-language"), {"language": "uk", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    body = signed_in.get(reverse("items")).content.decode()
    assert "Доказові матеріали" in body and '<html lang="uk">' in body
    assert "Вийти" in body


def test_browser_preference_is_honoured_on_the_login_page(client):
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Увійти" in body


def test_switch_refuses_foreign_redirects(signed_in):
    response = signed_in.post(reverse("set-language"),
                              {"language": "uk", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_catalog_is_complete_and_compiled():
    source = polib.pofile(str(CATALOG / "django.po"))
    assert source.percent_translated() == 100, [e.msgid for e in source.untranslated_entries()]
    assert not source.fuzzy_entries() and not source.metadata_is_fuzzy
    compiled = {(e.msgid, e.msgstr) for e in polib.mofile(str(CATALOG / "django.mo"))}
    expected = {(e.msgid, e.msgstr) for e in source.translated_entries()}
    assert expected <= compiled, "django.mo is stale: run `make messages`"


# --- Every translatable string in the sources is in the catalog ------------------------
#
# The test above only looks at entries already in the .po file, so a string added to a
# template after the last `make messages` would go unnoticed (and show in English). These
# tests find the strings in the sources themselves, independently of makemessages.

SOURCES = REPO / "src" / "svidok"
TEMPLATES = SOURCES / "web" / "templates"

# {% translate "x" %} / {% trans 'x' %}, with optional filters, `noop`, `as var`, `context "c"`.
# The tag's own rules: the literal cannot contain its quote character, no escapes.
INLINE_RE = re.compile(
    r"""\{%\s*trans(?:late)?\s+(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')(?P<rest>[^%]*?)\s*%\}""")
CONTEXT_RE = re.compile(r"""\bcontext\s+(?:"([^"]*)"|'([^']*)')""")
# {% blocktranslate ... %}...{% endblocktranslate %}, possibly with {% plural %} (count).
BLOCK_RE = re.compile(
    r"\{%\s*blocktrans(?:late)?(?P<args>(?:\s[^%]*?)?)\s*%\}(?P<body>.*?)"
    r"\{%\s*endblocktrans(?:late)?\s*%\}", re.DOTALL)
PLURAL_RE = re.compile(r"\{%\s*plural\s*%\}")
BLOCK_VAR_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# gettext("x"), gettext_lazy('x'), _("x"), pgettext("c", "x") with one plain literal on
# one line. Implicitly concatenated or f-strings, and ngettext's two literals, are not
# matched (and so not checked); makemessages and the test above still cover them.
PY_CALL_RE = re.compile(
    r"""(?<![\w.])(?P<func>gettext_lazy|gettext_noop|gettext|pgettext_lazy|pgettext|_)\(\s*"""
    r"""(?P<args>(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""(?:\s*,\s*(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))?)\s*[,)]""")


def _quoted(match: re.Match[str], double: str, single: str) -> str:
    value = match[double]
    return value if value is not None else match[single]


def template_messages() -> list[tuple[str, str | None, str, str | None]]:
    """(where, msgctxt, msgid, msgid_plural) for each translation tag in the templates."""
    from django.utils.translation import trim_whitespace

    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(SOURCES))
        for match in INLINE_RE.finditer(text):
            context = CONTEXT_RE.search(match["rest"])
            line = text.count("\n", 0, match.start()) + 1
            # Django escapes "%" in the literal before looking it up, as makemessages does.
            found.append((f"{where}:{line}", context and (context[1] or context[2]),
                          _quoted(match, "dq", "sq").replace("%", "%%"), None))
        for match in BLOCK_RE.finditer(text):
            body = match["body"]
            line = text.count("\n", 0, match.start()) + 1
            # Another tag inside the block (only {% plural %} is allowed) or a variable
            # with a filter or attribute: not a block we can reproduce reliably; skip it.
            if "{%" in PLURAL_RE.sub("", body) or "{{" in BLOCK_VAR_RE.sub("", body):
                continue
            args = match["args"]
            trimmed = re.search(r"\btrimmed\b", args) is not None
            context = CONTEXT_RE.search(args)

            def message(part: str, trimmed: bool = trimmed) -> str:
                # What makemessages does: "%" doubled in the text, {{ v }} → %(v)s, and
                # with `trimmed` the lines stripped and joined by spaces.
                part = BLOCK_VAR_RE.sub(r"%(\1)s", part.replace("%", "%%"))
                return trim_whitespace(part) if trimmed else part

            parts = PLURAL_RE.split(body)
            plural = message(parts[1]) if len(parts) == 2 else None
            found.append((f"{where}:{line}", context and (context[1] or context[2]),
                          message(parts[0]), plural))
    return found


def python_messages() -> list[tuple[str, str | None, str, str | None]]:
    """(where, msgctxt, msgid, None) for gettext calls with a literal outside svidok.core."""
    found = []
    for path in sorted(SOURCES.rglob("*.py")):
        relative = path.relative_to(SOURCES)
        if relative.parts[0] == "core":  # the core never translates
            continue
        text = path.read_text(encoding="utf-8")
        if "django.utils.translation" not in text:  # `_` may be anything else here
            continue
        for match in PY_CALL_RE.finditer(text):
            literals = ast.literal_eval(f"({match['args']},)")
            line = text.count("\n", 0, match.start()) + 1
            context = literals[0] if match["func"].startswith("pgettext") else None
            if match["func"].startswith("pgettext") and len(literals) != 2:
                continue
            found.append((f"{relative}:{line}", context, literals[-1], None))
    return found


def test_source_scan_finds_the_known_strings():
    """Guard against the regular expressions silently matching nothing."""
    templates = {(msgid, plural) for _, _, msgid, plural in template_messages()}
    assert ("Evidence items", None) in templates
    assert ("Verify custody proof", None) in templates  # {% translate "..." %}
    assert ("Search by hash or file name", None) in templates  # {% translate '...' %}
    assert ("page %(number)s of %(total)s", None) in templates  # blocktranslate with
    assert ("%(counter)s item", "%(counter)s items") in templates  # blocktranslate count
    python = {msgid for _, _, msgid, _ in python_messages()}
    assert "Second factor enabled." in python  # gettext as _
    assert "Source person (name, contact)" in python  # gettext_lazy as _


@pytest.mark.parametrize("scan", [template_messages, python_messages])
def test_every_source_string_is_translated(scan):
    catalog = polib.pofile(str(CATALOG / "django.po"))
    problems = []
    for where, context, msgid, plural in scan():
        entry = catalog.find(msgid, msgctxt=context) if context else catalog.find(msgid)
        if entry is None or entry.obsolete:
            problems.append(f"{where}: {msgid!r} is not in the catalog (run `make messages`)")
        elif not entry.translated() or "fuzzy" in entry.flags:
            problems.append(f"{where}: {msgid!r} is not translated")
        elif plural is not None and entry.msgid_plural != plural:
            problems.append(f"{where}: {msgid!r} has plural {entry.msgid_plural!r}, "
                            f"the template says {plural!r}")
    assert not problems, "\n".join(problems)


# --- Pages rendered in Ukrainian show no English UI text --------------------------------

# English msgids rendered on each page (for a user who can upload into one collection
# holding a few items). Only phrases and capitalised words: data such as role names
# (investigator) and custody actions (item.acquired) is shown as stored, in English.
ENGLISH_ON_PAGE = {
    "login": ["Log in", "Username", "Password"],
    "dashboard": ["Dashboard", "Collections", "Items", "Upload", "Account", "Log out",
                  "Search by hash or file name", "ingested in the last 7 days",
                  "custody events in the log", "Recent activity", "Time", "Action", "Item",
                  "By"],
    "collections": ["Collections", "Name", "Description", "Your role"],
    "incidents": ["Incidents", "Map", "Timeline", "Verification queue", "Duplicates", "Oblast",
                  "Weapon", "Object hit", "Children harmed", "Filter", "No incidents."],
    "verification": ["Verification queue", "Waiting for", "Nothing waits for you."],
    "duplicates": ["Possible duplicates", "Score", "No pairs waiting.", "Recent merges"],
    "items": ["Evidence items", "Search", "hash or file name", "Collection", "Type",
              "Ingested from", "URL or collector", "Hash prefix", "Filter", "Name", "Size",
              "Ingested", "3 items", "page 1 of 1"],
    "upload": ["Upload evidence", "Collection", "Files", "Source URL", "Collected by",
               "Collected on", "Source person", "Note", "per upload", "custody log"],
    "account": ["Account", "Second factor", "Not set up.", "Set up", "API tokens", "Name",
                "Starts with", "Created", "Last used", "No tokens.", "Create token",
                "API documentation"],
}


class _VisibleText(HTMLParser):
    """The text a user sees or hears: text nodes and the labelling attributes."""

    ATTRIBUTES = {"placeholder", "aria-label", "alt", "title"}
    BUTTON_INPUTS = {"submit", "button", "reset"}  # their value is their label

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._hidden += 1
        labels = self.ATTRIBUTES
        if tag == "input" and dict(attrs).get("type") in self.BUTTON_INPUTS:
            labels = labels | {"value"}
        self.parts.extend(value for name, value in attrs if name in labels and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def investigator(client, svidok_home, tmp_path):
    """A client, switched to Ukrainian, for a plain user who may upload to collection Поле."""
    for seed in range(3):
        evidence_ingest(paths=[make_jpeg(tmp_path / f"photo-{seed}.jpg", seed)],
                        collection_name="Поле", facts=AcquisitionFacts(actor="t"))
    user = get_user_model().objects.create_user("olena")
    membership_grant(username="olena", collection_name="Поле", role="investigator", actor="t")
    response = client.post(reverse("set-language"), {"language": "uk", "next": "/"})
    assert response.status_code == 302
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", list(ENGLISH_ON_PAGE))
def test_pages_in_ukrainian_have_no_english_left(investigator, page):
    if page == "login":
        investigator.logout()
        investigator.post(reverse("set-language"), {"language": "uk", "next": "/"})
    response = investigator.get(reverse(page))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="uk">' in html
    text = visible_text(html)
    left = [word for word in ENGLISH_ON_PAGE[page]
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]
    assert not left, f"English left on the {page} page: {left}\n{text}"
