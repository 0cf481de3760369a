"""Logging in and out in a real browser; the banner and menus on every page."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

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


def test_wrong_password_is_refused(web_server, new_context, screenshot):
    page = new_context().new_page()
    page.goto(f"{web_server.url}/login")
    page.fill("#username", "us.j3")
    page.fill("#password", "wrong")
    page.click("#login-form button[type=submit]")
    assert "wrong password" in page.locator("#login-error").inner_text()
    screenshot(page, "refused")


def test_home_counts_unread_messages(web_server, new_context, login, screenshot, console_errors):
    net_id = web_server.make_net(
        f"Unread {uuid.uuid4().hex[:6]}", "SECRET//REL TO USA, JPN", ["jp.sf"]
    )
    api = web_server.api("us.j3")
    for n in range(3):
        api.post(f"/api/v1/nets/{net_id}/messages", json={"text": f"Update {n}"}).raise_for_status()
    page = login(new_context(), "jp.sf", lang="en")
    badge = page.locator(f"#home-nets li[data-net='{net_id}'] .unread")
    expect(badge).to_have_text("3 unread")
    screenshot(page, "unread")
    with page.expect_response(
        lambda r: r.url.endswith(f"/api/v1/nets/{net_id}/read") and r.request.method == "PUT"
    ) as marked:
        page.click(f"#home-nets li[data-net='{net_id}'] a")
    assert marked.value.ok
    page.wait_for_selector("#chat[data-live=true]")
    page.goto(f"{web_server.url}/")
    expect(page.locator(f"#home-nets li[data-net='{net_id}'] .unread")).to_be_hidden()
    assert console_errors(page) == []
    # The marker is kept by the server: another device of the same person agrees.
    tablet = login(new_context(), "jp.sf", lang="en")
    expect(tablet.locator(f"#home-nets li[data-net='{net_id}']")).to_be_visible()
    expect(tablet.locator(f"#home-nets li[data-net='{net_id}'] .unread")).to_be_hidden()
    api.post(f"/api/v1/nets/{net_id}/messages", json={"text": "One more"}).raise_for_status()
    tablet.reload()
    expect(tablet.locator(f"#home-nets li[data-net='{net_id}'] .unread")).to_have_text("1 unread")


def test_tablet_width_and_keyboard(web_server, new_context, login, screenshot, console_errors):
    context = new_context(viewport={"width": 768, "height": 1024})
    page = login(context, "us.j3", lang="en")
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    page.goto(f"{web_server.url}/nets/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(page, "tablet")
    assert console_errors(page) == []
