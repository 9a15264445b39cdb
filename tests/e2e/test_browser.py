"""End-to-end: a real browser (Debian's Chromium, headless) against `svidok serve`.

The user flows of the web application, as people use them: log in, upload, open an
item, verify its custody proof, reveal a protected field, filter the item list,
switch to Ukrainian, set up and use the administrators' second factor. Every test
also checks that its pages logged no script error and no Content-Security-Policy
violation. Screenshots of each step go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import make_jpeg
from tests.e2e.conftest import Ui

SOURCE_PERSON = "Synthetic Witness, +380 00 000 0000"  # as ingested by tests/live_server.py
MASK = "••••••"
# Marks the current document; it survives htmx swaps and XHR, not a page load.
MARK = "() => { window.__svidokSamePage = true; }"
SAME_PAGE = "() => window.__svidokSamePage === true"


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _log_in_investigator(ui: Ui, start: str = "/items/") -> None:
    """Open ``start`` signed out, log in as the investigator on the login page, arrive."""
    page = ui.page
    page.goto(start)
    assert _path(page) == "/login/" and _query(page)["next"] == [start]
    ui.log_in(ui.live.investigator)
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(start).path)


def _open_item(ui: Ui, name: str) -> None:
    """From anywhere, find an item by name in the item list and open its page."""
    page = ui.page
    page.goto("/items/?q=" + name.replace(" ", "+"))
    page.locator("table.items tbody a", has_text=name).first.click()
    expect(page.locator("h1")).to_have_text(name)


def _totp(key_b32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1) for a base32 key shown without padding."""
    key = base64.b32decode(key_b32 + "=" * (-len(key_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def _wrong_code(key_b32: str) -> str:
    """A six-digit code the server cannot accept now (none of the steps it tolerates)."""
    now = time.time()
    valid = {_totp(key_b32, now + 30 * k) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 111_111)) if c not in valid)


# 1 ────────────────────────────────────────────────────────────────────────────────


def test_investigator_logs_in_and_sees_the_dashboard(ui: Ui) -> None:
    page = ui.page
    page.goto("/")
    assert _path(page) == "/login/" and _query(page)["next"] == ["/"]
    ui.shot("login-form")

    ui.log_in(ui.live.investigator, "not the password")
    expect(page.locator("p.error")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(re.compile(r"/login/"))
    ui.shot("wrong-password")

    ui.log_in(ui.live.investigator)
    page.wait_for_url(ui.live.url + "/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("form.logout span")).to_have_text(ui.live.investigator)
    # No second factor is asked of an investigator without one.
    assert _path(page) == "/"
    counts = page.locator("div.counts")
    item_count = int(counts.locator("strong.count-items").inner_text())
    assert item_count >= 3  # the three photos ingested with the instance
    numbers = counts.locator("strong").all_inner_texts()
    assert len(numbers) >= 4 and all(n.isdigit() for n in numbers), numbers
    assert max(int(n) for n in numbers) > item_count  # the log holds several events per item
    recent = page.locator("table tbody tr a")
    assert recent.count() >= 3
    expect(page.locator("table tbody")).to_contain_text("street")
    # The investigator is no instance administrator: no audit pages in the menu.
    expect(page.locator("header nav a", has_text="Audit")).to_have_count(0)
    ui.shot("dashboard")

    page.locator("header nav a", has_text="Items").click()
    expect(page.locator("p.total")).to_have_text(f"{item_count} items")
    page.locator("header nav a", has_text="Collections").click()
    expect(page.locator("table tbody tr")).to_have_count(1)  # only her one collection
    row = page.locator("table tbody tr", has_text=ui.live.collection)
    expect(row.locator("td").nth(2)).to_have_text(str(item_count))
    expect(row.locator("td").nth(3)).to_have_text("investigator")
    ui.shot("collections")
    ui.assert_clean()


# 2 ────────────────────────────────────────────────────────────────────────────────


def test_upload_two_files_with_progress_and_open_one(ui: Ui, tmp_path: Path) -> None:
    page = ui.page
    files = [make_jpeg(tmp_path / "e2e upload north wall.jpg", 101, size=(200, 150)),
             make_jpeg(tmp_path / "e2e upload south gate.jpg", 102, size=(200, 150))]
    _log_in_investigator(ui, "/upload/")
    expect(page.locator("h1")).to_have_text("Upload evidence")
    page.select_option("select[name=collection]", label=ui.live.collection)
    page.set_input_files("input[type=file][name=files]", [str(f) for f in files])
    page.fill("input[name=collected_by]", "Field team E2E")
    page.fill("textarea[name=note]", "uploaded by the browser test")
    expect(page.locator("#upload-progress")).to_be_hidden()
    ui.shot("form-filled")

    page.evaluate(MARK)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and urlsplit(r.url).path == "/upload/") as posted:
        page.click("#upload-form button[type=submit]")
    response = posted.value
    assert response.status == 200
    assert response.request.header_value("hx-request") == "true"  # sent by svidok.js, by XHR

    results = page.locator("#upload-results")
    expect(results.locator("p.verdict.good")).to_have_text(
        "Files: 2; new: 2; already held: 0; failed: 0.")
    assert page.evaluate(SAME_PAGE), "the upload reloaded the page instead of using XHR"
    assert _path(page) == "/upload/"
    progress = page.locator("#upload-progress")
    expect(progress).to_be_visible()
    assert progress.evaluate("bar => bar.value") == 100
    expect(page.locator("#upload-status")).to_have_text("✓")
    rows = results.locator("table.results tbody tr")
    expect(rows).to_have_count(2)
    by_name = {}
    for i in range(2):
        cells = rows.nth(i).locator("td")
        link = cells.nth(0).locator("a")
        expect(link).to_have_count(1)
        expect(cells.nth(1)).to_have_text("new")
        by_name[link.inner_text().rsplit("/", 1)[-1]] = (link, cells.nth(2).inner_text())
    assert sorted(by_name) == sorted(f.name for f in files)
    for f in files:  # the hash shown is the file's own SHA-256
        assert by_name[f.name][1].rstrip("…") == _sha256(f)[:16]
    # The form is cleared for the next batch.
    assert page.locator("input[type=file]").evaluate("input => input.files.length") == 0
    ui.shot("results")

    # The same bytes again are recognised as already held, not stored twice.
    page.set_input_files("input[type=file][name=files]", str(files[0]))
    page.click("#upload-form button[type=submit]")
    expect(results.locator("p.verdict.good")).to_have_text(
        "Files: 1; new: 0; already held: 1; failed: 0.")
    expect(results.locator("table.results tbody tr td").nth(1)).to_have_text("duplicate")
    ui.shot("duplicate")

    results.locator("a").first.click()
    page.wait_for_url(re.compile(r"/items/[0-9a-f-]{36}/$"))
    expect(page.locator("h1")).to_have_text(files[0].name)
    expect(page.locator("dd code").first).to_have_text(_sha256(files[0]))
    expect(page.locator("table.acquisitions tbody")).to_contain_text("Field team E2E")
    expect(page.locator("ol.custody")).to_contain_text("web:" + ui.live.investigator)
    ui.shot("item")
    ui.assert_clean()


# 3 ────────────────────────────────────────────────────────────────────────────────


def test_item_page_thumbnail_download_and_verified_proof(ui: Ui) -> None:
    page = ui.page
    name = "street 1.jpg"
    original = ui.live.home.parent / "photos" / name
    _log_in_investigator(ui)
    _open_item(ui, name)
    expect(page.locator("dd code").first).to_have_text(_sha256(original))
    thumbnail = page.locator(".preview img[alt=thumbnail]")
    expect(thumbnail).to_be_visible()
    thumbnail.evaluate("img => img.decode()")  # resolves once the image has loaded
    size = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 0 and size[1] > 0, f"the thumbnail did not load: {size}"
    assert size[0] / size[1] == pytest.approx(320 / 240, rel=0.05)  # same shape as the photo
    ui.shot("item")

    with page.expect_download() as download_info:
        page.locator("a", has_text="Download original").click()
    download = download_info.value
    assert download.suggested_filename == name
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == _sha256(original)

    with page.expect_response(lambda r: urlsplit(r.url).path.endswith("/proof")) as proof:
        page.locator("a.verify", has_text="Verify custody proof").click()
    assert proof.value.status == 200
    expect(page.locator("h1")).to_have_text("Custody proof")
    verdict = page.locator("p.verdict")
    expect(verdict).to_have_count(1)
    expect(verdict).to_have_class(re.compile(r"\bverdict\b.*\bgood\b"))
    expect(verdict).to_contain_text("Verified")
    expect(page.locator("p.verdict.bad")).to_have_count(0)
    actions = page.locator("table tbody tr td:nth-child(3)").all_inner_texts()
    assert "item.viewed" in actions and "item.downloaded" in actions, actions
    assert any("acquired" in a or "ingested" in a or "stored" in a for a in actions), actions
    head_size = int(page.locator("dl dd").first.inner_text().split()[0])
    indexes = [int(i) for i in page.locator("table tbody tr td:first-child code")
               .all_inner_texts()]
    assert indexes and max(indexes) < head_size  # every event lies inside the signed head
    ui.shot("proof")
    ui.assert_clean()


# 4 ────────────────────────────────────────────────────────────────────────────────


def test_item_list_filters_with_htmx_sorts_and_paginates(ui: Ui) -> None:
    page = ui.page
    _log_in_investigator(ui)
    expect(page.locator("h1")).to_have_text("Evidence items")
    total = int(page.locator("#results p.total").inner_text().split()[0])
    assert total >= 3
    expect(page.locator("#results p.pages")).to_contain_text("page 1 of 1")
    row = page.locator("table.items tbody tr", has_text="street 2.jpg")
    prefix = row.locator("code").inner_text().rstrip("…")[:10]
    ui.shot("all")

    filters = page.locator("form.filters")
    page.evaluate(MARK)
    with page.expect_response(lambda r: "hash=" in r.url) as answered:
        filters.locator("input[name=hash]").fill(prefix)
        filters.locator("input[name=hash]").press("Enter")
    assert answered.value.request.header_value("hx-request") == "true"
    expect(page.locator("#results p.total")).to_have_text("1 item")
    expect(page.locator("#results table.items tbody tr")).to_have_count(1)
    expect(page.locator("#results table.items tbody")).to_contain_text("street 2.jpg")
    expect(page).to_have_url(re.compile(r"[?&]hash=" + prefix))  # pushed into history
    assert page.evaluate(SAME_PAGE), "filtering reloaded the whole page instead of #results"
    expect(page.locator("h1")).to_have_count(1)  # a fragment, not a page inside the page
    ui.shot("hash-filter")

    # The pushed URL is a real page: reloading it keeps the filter.
    page.reload()
    expect(page.locator("form.filters input[name=hash]")).to_have_value(prefix)
    expect(page.locator("#results p.total")).to_have_text("1 item")

    filters.locator("input[name=hash]").fill("")
    page.evaluate(MARK)
    filters.locator("input[name=q]").fill("street")
    filters.locator("input[name=q]").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=street"))
    expect(page.locator("#results p.total")).to_have_text("3 items")
    assert "hash" not in _query(page) or _query(page)["hash"] == [""]
    assert page.evaluate(SAME_PAGE)
    names = page.locator("#results table.items tbody td:first-child a").all_inner_texts()
    assert sorted(names) == ["street 0.jpg", "street 1.jpg", "street 2.jpg"]
    ui.shot("name-filter")

    page.locator("#results thead a", has_text="Name").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=name\b"))
    names = page.locator("#results table.items tbody td:first-child a").all_inner_texts()
    assert names == ["street 0.jpg", "street 1.jpg", "street 2.jpg"]
    assert _query(page)["q"] == ["street"]  # sorting keeps the filter
    page.locator("#results thead a", has_text="Name").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=-name\b"))
    names = page.locator("#results table.items tbody td:first-child a").all_inner_texts()
    assert names == ["street 2.jpg", "street 1.jpg", "street 0.jpg"]
    expect(page.locator("#results p.pages")).to_have_text(re.compile(r"^\s*page 1 of 1\s*$"))
    ui.shot("sorted")

    page.evaluate(MARK)
    filters.locator("input[name=q]").fill("no such evidence anywhere")
    filters.locator("input[name=q]").press("Enter")
    expect(page.locator("#results p.total")).to_have_text("0 items")
    expect(page.locator("#results table.items tbody")).to_have_text("No items match.")
    assert page.evaluate(SAME_PAGE)
    ui.shot("no-match")
    ui.assert_clean()


# 5 ────────────────────────────────────────────────────────────────────────────────


def test_protected_source_person_is_masked_and_reveal_is_logged(ui: Ui) -> None:
    page = ui.page
    _log_in_investigator(ui)
    _open_item(ui, "street 0.jpg")
    protected = page.locator("span.protected").first
    expect(protected.locator(".mask")).to_have_text(MASK)
    expect(page.locator("body")).not_to_contain_text("Synthetic Witness")
    trail = page.locator("ol.custody li", has_text="item.protected_revealed")
    before = trail.count()
    ui.shot("masked")

    page.evaluate(MARK)
    with page.expect_response(lambda r: "/reveal/" in r.url) as revealed:
        protected.get_by_role("button", name="Reveal (logged)").click()
    assert revealed.value.request.method == "POST"
    assert revealed.value.status == 200
    expect(protected.locator("span.revealed")).to_have_text(SOURCE_PERSON)
    expect(protected).to_contain_text("this reveal was recorded in the custody log")
    expect(protected.locator(".mask")).to_have_count(0)
    assert page.evaluate(SAME_PAGE), "the reveal reloaded the page instead of an htmx swap"
    ui.shot("revealed")

    page.reload()
    expect(page.locator("span.protected .mask").first).to_have_text(MASK)
    expect(page.locator("body")).not_to_contain_text("Synthetic Witness")  # masked again
    expect(trail).to_have_count(before + 1)
    expect(trail.last).to_contain_text("web:" + ui.live.investigator)
    ui.shot("trail")
    ui.assert_clean()


# 6 ────────────────────────────────────────────────────────────────────────────────


def test_switch_to_ukrainian_and_back(ui: Ui) -> None:
    page = ui.page
    _log_in_investigator(ui)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header nav")).to_contain_text("Items")
    ui.shot("english")

    page.locator("form.language button", has_text="UK").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    assert _path(page) == "/items/"  # back on the same page
    expect(page.locator("form.language button[value=uk]")).to_have_attribute(
        "aria-pressed", "true")
    expect(page.locator("header nav")).to_contain_text("Матеріали")
    expect(page.locator("header nav")).not_to_contain_text("Items")
    expect(page.locator("form.logout button")).to_have_text("Вийти")
    expect(page.locator("h1")).to_have_text("Доказові матеріали")
    ui.shot("ukrainian")

    # The choice sticks for the following pages.
    page.locator("table.items tbody a", has_text="street 1.jpg").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("a.verify")).to_have_text("Перевірити доказ зберігання")
    page.locator("a.verify").click()
    expect(page.locator("h1")).to_have_text("Доказ зберігання")
    expect(page.locator("p.verdict.good")).to_be_visible()
    ui.shot("ukrainian-proof")

    page.locator("form.language button", has_text="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Custody proof")
    ui.assert_clean()


def test_log_out(ui: Ui) -> None:
    page = ui.page
    _log_in_investigator(ui)
    with page.expect_navigation() as navigation:
        page.locator("form.logout button", has_text="Log out").click()
    ui.shot("after-logout")
    assert navigation.value is not None and navigation.value.status == 200, (
        f"logging out answered HTTP {navigation.value and navigation.value.status}")
    expect(page.locator("form.logout")).to_have_count(0)  # nobody is signed in
    page.goto("/items/")
    assert _path(page) == "/login/"
    ui.assert_clean()


# 7 ────────────────────────────────────────────────────────────────────────────────


def test_administrator_sets_up_and_uses_the_second_factor(ui: Ui) -> None:
    page = ui.page
    live = ui.live
    page.goto("/collections/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    ui.log_in(live.admin)

    # The password alone is not enough: an administrator must set up a second factor.
    page.wait_for_url(re.compile(r"/account/second-factor/"))
    assert _query(page)["next"] == ["/collections/"]
    expect(page.locator("h1")).to_have_text("Set up a second factor")
    expect(page.locator(".qr svg")).to_be_visible()
    key = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", key), key
    ui.shot("setup")
    # Nothing else opens before it is done.
    page.goto("/items/")
    expect(page).to_have_url(re.compile(r"/account/second-factor/\?next=%2Fitems%2F"))
    expect(page.locator("code.secret")).to_have_text(key)  # the same pending device
    page.goto("/account/second-factor/?next=/collections/")

    page.fill("input[name=code]", _wrong_code(key))
    page.click("form.login button[type=submit]")
    expect(page.locator("p.error")).to_contain_text("not the one the app shows now")
    expect(page.locator("h1")).to_have_text("Set up a second factor")
    expect(page.locator("code.secret")).to_have_text(key)
    ui.shot("setup-wrong-code")

    time.sleep(1.2)  # django-otp refuses any attempt within a second of a failure
    setup_at = time.time()
    page.fill("input[name=code]", _totp(key, setup_at))
    page.click("form.login button[type=submit]")
    page.wait_for_url(live.url + "/collections/")
    expect(page.locator("ul.messages")).to_contain_text("Second factor enabled.")
    expect(page.locator("h1")).to_have_text("Collections")
    expect(page.locator("header nav a", has_text="Audit")).to_have_count(1)
    ui.shot("enabled")

    # Logging out ends the session (what the logout page answers: test_log_out).
    with page.expect_navigation():
        page.locator("form.logout button").click()
    page.goto("/collections/")
    assert _path(page) == "/login/" and _query(page)["next"] == ["/collections/"]  # signed out
    ui.log_in(live.admin)

    # Now the code page, every time.
    page.wait_for_url(re.compile(r"/login/code/"))
    assert _query(page)["next"] == ["/collections/"]
    expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
    page.goto("/items/")  # still held back
    expect(page).to_have_url(re.compile(r"/login/code/\?next=%2Fitems%2F"))
    page.goto("/login/code/?next=/collections/")
    ui.shot("code")

    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.fill("input[name=code]", _wrong_code(key))
        page.click("form.login button[type=submit]")
    assert refused.value.status == 400
    expect(page.locator("p.error")).to_have_text("wrong or expired code")
    assert _path(page) == "/login/code/"
    ui.shot("wrong-code")

    time.sleep(1.2)  # past the throttle after the failure
    # A code never used before: the setup's step is spent (no replay), so at least the next.
    fresh_at = max(time.time(), setup_at + 30)
    page.fill("input[name=code]", _totp(key, fresh_at))
    page.click("form.login button[type=submit]")
    page.wait_for_url(live.url + "/collections/")
    expect(page.locator("h1")).to_have_text("Collections")
    page.goto("/items/")
    expect(page.locator("h1")).to_have_text("Evidence items")  # no longer held back
    ui.shot("signed-in")
    ui.assert_clean()


# 8 ────────────────────────────────────────────────────────────────────────────────


def test_pages_run_under_the_content_security_policy(ui: Ui) -> None:
    page = ui.page
    _log_in_investigator(ui, "/")
    item_path = None
    for path in ["/", "/collections/", "/items/", "/upload/", "/account/"]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        policy = response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
        # The app's own scripts loaded (htmx is what makes filters and reveals work).
        assert page.evaluate("() => typeof window.htmx") == "object", path
        if path == "/items/":
            item_path = page.locator("table.items tbody a").first.get_attribute("href")
    assert item_path
    for path in [item_path, item_path + "proof"]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in (response.header_value("content-security-policy") or "")
        # Let the near-duplicates fragment arrive: leaving earlier aborts its request.
        page.wait_for_load_state("networkidle")
    # Scripts and styles all came from the app itself and ran without complaint.
    assert ui.problems() == [], ui.problems()

    # The policy is enforced, and a violation would be seen by these tests.
    page.goto(item_path)
    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__inlineRan = true;";
        document.head.appendChild(s);
    }""")
    deadline = time.monotonic() + 5
    while not ui.problems() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.evaluate("() => window.__inlineRan") is None
    assert any("Refused to" in m or "CSP violation" in m for m in ui.problems()), ui.console
    ui.shot("inline-script-refused")
