"""The chat view in real browsers: live delivery, banners, label filtering, the guard."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

OPERATIONAL = "Strike on target at 38.1234N 127.5678E at 0400Z tomorrow"


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def _open_net(web_server, login, context, username, net_id, lang=None):
    page = login(context, username, lang=lang)
    page.goto(f"{web_server.url}/nets/{net_id}")
    page.wait_for_selector("#chat[data-live=true]")
    return page


def test_message_posted_in_one_browser_appears_in_another_within_a_second(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = web_server.make_net(
        _name("J3 coordination"),
        "SECRET//REL TO USA, JPN",
        ["jp.j3"],
        entry="UNCLASSIFIED",
        default_label="UNCLASSIFIED",
    )
    us = _open_net(web_server, login, new_context(), "us.j3", net_id, lang="en")
    jp = _open_net(web_server, login, new_context(), "jp.j3", net_id, lang="en")
    assert jp.locator("#banner-top").get_attribute("data-level") == "unclassified"

    us.fill("#composer-text", "Coffee in the J3 office at ten")
    us.select_option("#composer-label", "UNCLASSIFIED")
    started = time.monotonic()
    us.click("#composer-send")
    jp.wait_for_selector("#messages li:has-text('Coffee in the J3 office')", timeout=1000)
    assert time.monotonic() - started < 1.0
    first = jp.locator("#messages li").last
    assert first.locator(".portion").inner_text() == "(U)"

    # A SECRET message arrives: both banners rise, live.
    web_server.api("us.j3").post(
        f"/api/v1/nets/{net_id}/messages",
        json={"text": "Exercise schedule moves by a day.", "label": "SECRET//REL TO USA, JPN"},
    ).raise_for_status()
    expect(jp.locator("#banner-top")).to_have_attribute("data-level", "secret", timeout=2000)
    assert jp.locator("#banner-bottom").get_attribute("data-level") == "secret"
    assert jp.locator("#banner-top").inner_text() == "SECRET//REL TO USA, JPN"
    assert jp.locator("#messages li").last.locator(".portion").inner_text() == (
        "(S//REL TO USA, JPN)"
    )
    screenshot(jp, "secret-arrived")
    screenshot(us, "author")
    assert console_errors(us) == []
    assert console_errors(jp) == []


def test_japanese_member_never_sees_the_noforn_message_the_us_member_sees(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = web_server.make_net(
        _name("Bilateral ops"),
        "SECRET//NOFORN",
        ["jp.j3", "us.j2"],
        entry="CONFIDENTIAL//REL TO USA, JPN",
        default_label="CONFIDENTIAL//REL TO USA, JPN",
    )
    us = _open_net(web_server, login, new_context(), "us.j2", net_id, lang="en")
    jp = _open_net(web_server, login, new_context(), "jp.j3", net_id, lang="en")
    api = web_server.api("us.j3")
    for text, label in (
        ("US eyes only: the liaison roster changes.", "SECRET//NOFORN"),
        ("Both staffs: the meeting is at 1500.", "CONFIDENTIAL//REL TO USA, JPN"),
    ):
        api.post(
            f"/api/v1/nets/{net_id}/messages", json={"text": text, "label": label}
        ).raise_for_status()
    us.wait_for_selector("#messages li:has-text('the meeting is at 1500')")
    jp.wait_for_selector("#messages li:has-text('the meeting is at 1500')")
    assert us.locator("#messages li:has-text('US eyes only')").count() == 1
    assert jp.locator("#messages li:has-text('US eyes only')").count() == 0
    assert "US eyes only" not in jp.content()
    assert jp.locator("#banner-top").get_attribute("data-level") == "confidential"
    assert us.locator("#banner-top").get_attribute("data-level") == "secret"
    # A fresh load (not the live stream) filters the same way.
    jp.reload()
    jp.wait_for_selector("#messages li:has-text('the meeting is at 1500')")
    assert "US eyes only" not in jp.content()
    screenshot(us, "us-view")
    screenshot(jp, "japanese-view")
    assert console_errors(us) == []
    assert console_errors(jp) == []


def test_guard_findings_appear_before_posting_operational_text_as_unclassified(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = web_server.make_net(
        _name("Fires coordination"),
        "SECRET//REL TO USA, JPN",
        ["us.7flt"],
        entry="UNCLASSIFIED",
        default_label="UNCLASSIFIED",
    )
    page = _open_net(web_server, login, new_context(), "us.7flt", net_id, lang="en")
    page.select_option("#composer-label", "UNCLASSIFIED")
    page.locator("#composer-text").press_sequentially(OPERATIONAL, delay=5)
    guard = page.locator("#guard")
    guard.locator(".findings li").first.wait_for(timeout=3000)
    assert guard.get_attribute("data-refused") == "true"
    assert "SECRET" in guard.inner_text()
    assert page.locator("#messages li").count() == 0  # nothing was posted
    screenshot(page, "guard")
    # Posting anyway is refused; without may_override there is no override.
    page.click("#composer-send")
    page.wait_for_selector("#guard .refused")
    assert page.locator("#override").is_hidden()
    assert page.locator("#override-send").is_hidden()
    assert page.locator("#messages li").count() == 0
    assert console_errors(page) == [
        e for e in console_errors(page) if "422" in e
    ]  # the refused post is the only failed request


def test_override_with_justification_for_those_allowed(web_server, new_context, login, screenshot):
    admin = web_server.api("admin")
    person = admin.get("/api/v1/people/" + web_server.person_id("us.j2")).json()
    if "may_override" not in person["roles"]:
        admin.patch(
            f"/api/v1/people/{person['id']}", json={"roles": [*person["roles"], "may_override"]}
        ).raise_for_status()
    net_id = web_server.make_net(
        _name("Override drill"),
        "SECRET//REL TO USA, JPN",
        ["us.j2"],
        entry="UNCLASSIFIED",
        default_label="UNCLASSIFIED",
    )
    page = _open_net(web_server, login, new_context(), "us.j2", net_id, lang="en")
    page.select_option("#composer-label", "UNCLASSIFIED")
    page.fill("#composer-text", OPERATIONAL)
    page.click("#composer-send")
    page.wait_for_selector("#override-send:not([hidden])")
    page.fill("#override-justification", "Exercise text quoted from the public press release.")
    page.click("#override-send")
    page.wait_for_selector("#messages li:has-text('Strike on target')")
    screenshot(page, "override")


def test_reply_edit_and_history(web_server, new_context, login, screenshot, console_errors):
    net_id = web_server.make_net(
        _name("Staff chat"), "SECRET//REL TO USA, JPN", ["jp.sf"], default_label="UNCLASSIFIED"
    )
    page = _open_net(web_server, login, new_context(), "us.j3", net_id, lang="en")
    page.fill("#composer-text", "Draft agenda is on the share.")
    page.click("#composer-send")
    first = page.locator("#messages li").first
    first.wait_for()
    first.locator("button.reply").click()
    assert page.locator("#reply-bar").is_visible()
    page.fill("#composer-text", "Thanks, reading it now.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#messages li .reply-ref")
    first.locator("button.edit").click()
    first.locator(".edit-text").fill("Final agenda is on the share.")
    first.locator(".edit-form button[type=submit]").click()
    page.wait_for_selector("#messages li:has-text('Final agenda') .edited")
    page.locator("#messages li:has-text('Final agenda') button.history").click()
    versions = page.locator("#messages li:has-text('Final agenda') .versions li")
    versions.nth(1).wait_for()
    assert "Draft agenda" in versions.nth(0).inner_text()
    screenshot(page, "history")
    assert console_errors(page) == []


def test_the_author_sees_who_received_and_read_a_message_in_their_language(
    web_server, new_context, login, console_errors
):
    """The receipts TAK clients send (recorded by the server; their filtering is tested in
    tests/takserver/test_chat_receipts.py) shown to the author; here the page's rendering of the
    API's answer, which is stubbed, since the demo server runs no CoT listener."""
    net_id = web_server.make_net(
        _name("Receipts"),
        "SECRET//REL TO USA, JPN",
        ["jp.j3"],
        entry="UNCLASSIFIED",
        default_label="UNCLASSIFIED",
    )
    page = _open_net(web_server, login, new_context(), "jp.j3", net_id, lang="ja")
    page.fill("#composer-text", "明朝の会議は0900から")
    page.click("#composer-send")
    mine = page.locator("#messages li:has-text('明朝の会議')")
    expect(mine).to_have_count(1, timeout=3000)
    mine.locator("button.receipts").click()
    expect(mine.locator(".receipts-list")).to_contain_text("受領通知はまだありません")
    mine.locator("button.receipts").click()  # closes
    answer = (
        '[{"person_id": "p1", "username": "us.j3", "kind": "delivered",'
        ' "at": "2026-12-08T01:00:00+00:00"},'
        ' {"person_id": "p1", "username": "us.j3", "kind": "read",'
        ' "at": "2026-12-08T01:02:00+00:00"}]'
    )
    page.route(
        "**/api/v1/messages/*/receipts",
        lambda route: route.fulfill(status=200, content_type="application/json", body=answer),
    )
    mine.locator("button.receipts").click()
    items = mine.locator(".receipts-list li")
    expect(items).to_have_count(2)
    assert "着信" in items.nth(0).inner_text() and "既読" in items.nth(1).inner_text()
    assert console_errors(page) == []
