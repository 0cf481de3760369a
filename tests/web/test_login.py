"""Logging in and out in a real browser; the banner and menus on every page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_login_shows_home_with_banners(web_server, new_context, login, screenshot, console_errors):
    page = login(new_context(), "us.j3")
    assert page.locator("#banner-top").get_attribute("data-level")
    assert page.locator("#banner-bottom").inner_text() == page.locator("#banner-top").inner_text()
    assert page.get_by_role("link", name="Nets").is_visible()
    assert page.locator("#track-total").inner_text()
    screenshot(page, "home")
    page.click("#logout")
    page.wait_for_url(f"{web_server.url}/login")
    assert console_errors(page) == []


def test_wrong_password_is_refused(web_server, new_context):
    page = new_context().new_page()
    page.goto(f"{web_server.url}/login")
    page.fill("#username", "us.j3")
    page.fill("#password", "wrong")
    page.click("#login-form button[type=submit]")
    assert "wrong password" in page.locator("#login-error").inner_text()
