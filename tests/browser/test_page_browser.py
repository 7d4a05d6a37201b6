"""The search page in a real browser: Debian's headless Chromium driven by Playwright.

The app is served by uvicorn on 127.0.0.1 (a free port, a background thread) over an
index of the fixture catalog built with the deterministic fake encoders of
tests/conftest.py, so the test needs no model weights. Screenshots go to
$PRODSEARCH_SCREENSHOTS (default: a pytest temporary directory).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, FakeClipEncoder, FakeTextEncoder
from live import serve

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
PHOTO = REPO / "fixtures" / "images" / "p0007.png"
TIMEOUT_MS = 15_000


def _require_browser() -> None:
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} is missing (install it with scripts/install-browser.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is missing (pip install -e '.[dev]')")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("browser test cannot run in CI: " + "; ".join(missing))
        pytest.skip("browser test skipped outside CI: " + "; ".join(missing))


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> Iterator[str]:
    """Serve a fixture-catalog index built with the fake encoders; yields the base URL."""
    _require_browser()

    from api.app import create_app
    from api.settings import Settings
    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders
    from search.searcher import Searcher

    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    index_dir = tmp_path_factory.mktemp("browser") / "index"
    build_index(load_catalog(REPO / "fixtures" / "catalog.jsonl"), index_dir, encoders, progress=False)
    searcher = Searcher.open(index_dir, encoders)
    try:
        with serve(create_app(Settings(index_dir=index_dir), searcher)) as url:
            yield url
    finally:
        searcher.index.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    raw = os.environ.get("PRODSEARCH_SCREENSHOTS")
    directory = Path(raw) if raw else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def browser(server_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def _open(browser, server_url: str, problems: list[str], **context_options):
    """A page that records console errors, failed requests and any request leaving 127.0.0.1."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def guard(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server_url) or route.request.url.startswith("blob:"):
            return route.continue_()
        problems.append(f"external request: {route.request.url}")
        return route.abort()

    page.route("**/*", guard)
    return context, page


def _cards(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(".card", "els => els.map(e => ({...e.dataset}))")


def _wait_for_status(page, pattern: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect(page.locator("#status")).to_have_text(re.compile(pattern), timeout=TIMEOUT_MS)
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Load every lazy photo now, so a full-page screenshot shows them all."""
    page.evaluate("document.querySelectorAll('.card img').forEach(i => { i.loading = 'eager'; })")
    deadline = time.monotonic() + TIMEOUT_MS / 1000  # polled from here: the page's CSP forbids wait_for_function's eval
    while not page.evaluate("[...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)"):
        assert time.monotonic() < deadline, "result photos did not load"
        time.sleep(0.1)
    page.wait_for_load_state("networkidle")


def test_search_filter_photo_similar_why(browser, server_url, shots):
    from playwright.sync_api import expect

    problems: list[str] = []
    context, page = _open(browser, server_url, problems, viewport={"width": 1280, "height": 900})
    page.goto(server_url + "/")
    expect(page.get_by_label("Search products")).to_be_visible()
    expect(page.locator('fieldset[data-facet="brand"] input[type=checkbox]').first).to_be_visible()

    # type a query: results as you type (debounced), photos come from the API
    page.get_by_label("Search products").press_sequentially("shirt", delay=40)
    _wait_for_status(page, r"Results 1\u201324 (of \d+ )?for \u201cshirt\u201d")
    before = _cards(page)
    assert len(before) == 24
    first_img = page.locator(".card img").first
    assert first_img.get_attribute("loading") == "lazy" and first_img.get_attribute("alt")
    assert first_img.get_attribute("src").startswith("/products/")
    expect(page.locator("#pager")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    _wait_for_status(page, r"Results 25\u201348 ")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"Page 2 of \d+"))

    # apply a facet: a brand that is not the top hit's; every result then has it
    brand = next(b for b in page.locator('fieldset[data-facet="brand"] .value').all_inner_texts()
                 if b != before[0]["brand"])
    page.locator('fieldset[data-facet="brand"] label', has_text=brand).click()
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for")
    expect(page.locator(".chip", has_text=f"Brand: {brand}")).to_be_visible()
    after = _cards(page)
    assert after and all(c["brand"] == brand for c in after), after
    assert [c["id"] for c in after] != [c["id"] for c in before]

    # why this rank: per-signal rank and score on each card, and time per stage
    page.get_by_label("Why this rank?").check()
    expect(page.locator(".card .why").first).to_be_visible()
    expect(page.locator(".card .why table").first).to_contain_text("lexical")
    expect(page.locator("#timings")).to_contain_text("total")
    expect(page.locator("#timings .signal-list")).to_contain_text("BM25 over")  # from GET /signals
    _settle(page)
    page.screenshot(path=str(shots / "01-text-search-filtered-why.png"), full_page=True)

    # search by photo (with the text and the brand filter still applied)
    page.locator("#photo-input").set_input_files(str(PHOTO))
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?like your photo, with \u201cshirt\u201d")
    expect(page.locator("#photo-preview")).to_be_visible()
    photo_hits = _cards(page)
    assert photo_hits and all(c["brand"] == brand for c in photo_hits)
    page.get_by_role("button", name="Clear all").click()
    page.get_by_label("Search products").fill("")
    _wait_for_status(page, r"Results 1\u201324 (of \d+ )?like your photo$")
    _settle(page)
    page.screenshot(path=str(shots / "02-photo-search.png"), full_page=True)

    # more like this
    target = _cards(page)[2]
    page.locator(f'.card[data-id="{target["id"]}"] .more').click()
    expect(page.locator("#mode-banner")).to_be_visible()
    _wait_for_status(page, r"Results 1\u201324 (of \d+ )?like \u201c")
    similar = _cards(page)
    assert similar and target["id"] not in [c["id"] for c in similar]
    _settle(page)
    page.screenshot(path=str(shots / "03-more-like-this.png"), full_page=True)

    # an API error is shown to the user (415 for a non-image upload)
    page.locator("#photo-input").set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    expect(page.locator("#error")).to_contain_text("expected an image upload")
    expect(page.locator("#error")).to_contain_text("415")
    page.get_by_role("button", name="Remove photo").click()
    expect(page.locator("#error")).to_be_hidden()

    # keyboard: the search box then its button, in tab order
    page.get_by_label("Search products").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Search"
    context.close()
    expected = [p for p in problems if "status of 415" in p]  # the deliberate non-image upload
    assert len(expected) <= 1 and not [p for p in problems if p not in expected], problems


def test_phone_sized_screen(browser, server_url, shots):
    from playwright.sync_api import expect

    problems: list[str] = []
    context, page = _open(browser, server_url, problems, viewport={"width": 390, "height": 844},
                          device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(server_url + "/?q=red+dress")
    _wait_for_status(page, r"Results 1\u201324 (of \d+ )?for \u201cred dress\u201d")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    columns = page.evaluate("getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length")
    assert columns == 2
    expect(page.locator("#filters-body")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / "04-phone.png"))
    page.get_by_role("button", name="Show filters").click()
    expect(page.locator('fieldset[data-facet="colour"]')).to_be_visible()
    page.locator('fieldset[data-facet="colour"]').get_by_role("button", name=re.compile("Show all")).click()
    page.locator('fieldset[data-facet="colour"] label', has_text="Red").click()
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for")
    assert all(c["colour"] == "Red" for c in _cards(page))
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / "05-phone-filters.png"))
    context.close()
    assert not problems, problems


def test_understood_values_filter_in_one_click(browser, server_url, shots):
    from playwright.sync_api import expect

    problems: list[str] = []
    context, page = _open(browser, server_url, problems, viewport={"width": 1280, "height": 900})
    page.goto(server_url + "/?q=ladies+red+dress")
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for \u201cladies red dress\u201d")
    understood = page.locator("#understood")
    expect(understood).to_be_visible()
    expect(understood.get_by_role("button", name="Filter by Gender: Women")).to_be_visible()
    expect(understood).to_contain_text("Searched for \u201cWomen red dress\u201d")  # the synonym, resolved
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / "06-understood.png"))
    understood.get_by_role("button", name="Filter by Colour: Red").click()
    expect(page.locator(".chip", has_text="Colour: Red \u00d7")).to_be_visible()
    expect(understood.get_by_role("button", name="Filter by Colour: Red")).to_have_count(0)  # now a filter
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for")
    assert _cards(page) and all(c["colour"] == "Red" for c in _cards(page))
    context.close()
    assert not problems, problems


def test_a_price_and_a_ruled_out_value_in_the_query_are_shown_and_applied(browser, server_url, shots):
    import json

    from playwright.sync_api import expect

    prices = {row["id"]: row["price"] for row in map(json.loads, (REPO / "fixtures" / "catalog.jsonl").open())}
    problems: list[str] = []
    context, page = _open(browser, server_url, problems, viewport={"width": 1280, "height": 900})
    page.goto(server_url + "/?q=red+dress+under+40")
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for \u201cred dress under 40\u201d")
    understood = page.locator("#understood")
    expect(understood).to_contain_text("Price up to 40 (\u201cunder 40\u201d)")
    expect(understood).to_contain_text("Searched for \u201cred dress\u201d")
    cards = _cards(page)
    assert cards and all(prices[c["id"]] <= 40 for c in cards)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / "07-price-from-query.png"))
    page.goto(server_url + "/?q=caps+not+red")
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for \u201ccaps not red\u201d")
    expect(understood).to_contain_text("Not: Colour: Red")
    cards = _cards(page)
    assert cards and all(c["colour"] != "Red" for c in cards)
    page.goto(server_url + "/?q=apparel+not+t-shirts+or+tidewater")  # a type (category and article type) and a brand
    _wait_for_status(page, r"Results 1\u2013\d+ (of \d+ )?for \u201capparel not t-shirts or tidewater\u201d")
    expect(understood).to_contain_text("Brand: Tidewater")
    assert understood.inner_text().count("T-Shirts") == 1  # said once, not once per field naming it
    cards = _cards(page)
    assert cards and all(c["brand"] != "Tidewater" and "T-Shirts" not in c["category"] for c in cards)
    context.close()
    assert not problems, problems
