"""A session that ends under an open page: a plain notice (EN/JA) with a link back in, the
composer's draft kept across the login; refusals in the composer worded from the catalogue."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.slow

WORDS = {
    "en": ("Your session ended", "Log in again"),
    "ja": ("セッションが終了しました", "再ログイン"),
}


@pytest.mark.parametrize(("username", "lang"), [("us.j3", "en"), ("jp.j3", "ja")])
def test_session_end_keeps_the_draft_and_returns_after_login(
    web_server, new_context, login, screenshot, console_errors, username, lang
):
    net_id = web_server.make_net(
        f"Session {uuid.uuid4().hex[:6]}",
        "SECRET//REL TO USA, JPN",
        ["jp.j3"],
        entry="UNCLASSIFIED",
        default_label="UNCLASSIFIED",
    )
    page = login(new_context(), username, lang=lang)
    page.goto(f"{web_server.url}/nets/{net_id}")
    page.wait_for_selector("#chat[data-live=true]")
    draft = f"Draft to keep across the login {uuid.uuid4().hex[:6]}"
    page.fill("#composer-text", draft)

    # The session ends elsewhere (here: logged out behind the page's back).
    page.evaluate(
        """async () => {
          const csrf = document.cookie.match(/kyodo_csrf=([^;]*)/)[1];
          await fetch("/api/v1/auth/logout", {method: "POST", headers: {"X-CSRF-Token": csrf}});
        }"""
    )
    page.click("#composer-send")
    notice = page.locator("#session-ended")
    expect(notice).to_be_visible()
    ended, again = WORDS[lang]
    expect(notice).to_contain_text(ended)
    link = page.locator("#session-login")
    expect(link).to_have_text(again)
    assert link.get_attribute("href") == f"/login?next=%2Fnets%2F{net_id}"
    expect(page.locator("#composer-error")).to_contain_text(ended)
    assert "log in first" not in page.content()
    screenshot(page, f"session-ended-{lang}")

    link.click()
    page.wait_for_selector("#login-form")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{web_server.url}/nets/{net_id}")
    expect(page.locator("#composer-text")).to_have_value(draft)
    assert [e for e in console_errors(page) if "401" not in e] == []


def test_add_member_refusal_is_in_japanese(web_server, new_context, login, console_errors):
    net_id = web_server.make_net(
        f"Owner ja {uuid.uuid4().hex[:6]}", "SECRET//REL TO USA, JPN", [], owner="jp.j3"
    )
    page = login(new_context(), "jp.j3", lang="ja")
    page.goto(f"{web_server.url}/nets/{net_id}")
    page.wait_for_selector("#chat[data-live=true]")
    page.select_option("#member-person", web_server.person_id("journalist"))
    page.click("#add-member button[type=submit]")
    status = page.locator("#status-message")
    expect(status).to_contain_text("この操作は許可されていません。")
    expect(status).to_contain_text("の参加区分は閲覧できる範囲を超えています。")
    expect(status).to_contain_text("適格性（区分なし）が極秘に達していません。")
    assert "cannot" not in status.inner_text() and "clearance" not in status.inner_text()
