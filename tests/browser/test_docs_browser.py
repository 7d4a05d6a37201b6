"""/docs in a real browser: Swagger UI renders from the server's own files under its CSP, offline."""

from __future__ import annotations

import pytest
from test_page_browser import TIMEOUT_MS, _open, browser, server_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_swagger_ui_renders_offline_under_its_csp(browser, server_url):  # noqa: F811
    from playwright.sync_api import expect

    problems: list[str] = []
    context, page = _open(browser, server_url, problems, viewport={"width": 1280, "height": 900})
    try:
        page.goto(server_url + "/docs")
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator(".swagger-ui")).to_contain_text("/search/image")
        expect(page.locator(".swagger-ui")).to_contain_text("/admin/reload")
        expect(page.locator(".swagger-ui .authorize")).to_be_visible()  # the admin bearer scheme
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert problems == []  # console errors (CSP violations among them), failed or external requests
