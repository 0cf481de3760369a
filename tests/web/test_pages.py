"""Directory, security officer, net creation and the Japanese UI in a real browser."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_directory_shows_counterparts_side_by_side(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.j3", lang="en")
    page.click("nav >> text=Directory")
    pairs = page.locator("#counterparts")
    expect(pairs.locator("[data-org=usfj]")).to_be_visible()
    expect(pairs.locator("[data-org=jjoc]").first).to_be_visible()
    assert page.locator("#people tr[data-username='jp.j3']").count() == 1
    screenshot(page, "directory")
    assert console_errors(page) == []


def test_security_page_for_security_officers_only(
    web_server, new_context, login, screenshot, console_errors
):
    # A refused membership to show: the journalist cannot join a SECRET net.
    net_id = web_server.make_net(f"Refusal {uuid.uuid4().hex[:6]}", "SECRET//REL TO USA, JPN", [])
    refused = web_server.api("us.j3").post(
        f"/api/v1/nets/{net_id}/members", json={"person_id": web_server.person_id("journalist")}
    )
    assert refused.status_code == 403
    page = login(new_context(), "secoff", lang="en")
    page.click("nav >> text=Security")
    expect(page.locator("#verify-result")).to_have_attribute("data-ok", "true")
    assert page.locator("#refused-memberships tr[data-action='net.add_member']").count() >= 1
    page.fill("#f-action", "auth.login")
    page.click("#audit-filters button[type=submit]")
    rows = page.locator("#audit-log tbody tr")
    expect(rows.first).to_have_attribute("data-action", "auth.login")
    screenshot(page, "security")
    assert console_errors(page) == []

    member = login(new_context(), "us.7flt", lang="en")
    assert member.locator("nav >> text=Security").count() == 0
    answer = member.goto(f"{web_server.url}/security")
    assert answer is not None and answer.status == 403


def test_create_net_with_label_picker_preview(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.j3", lang="en")
    page.goto(f"{web_server.url}/nets/new")
    name = f"Picker {uuid.uuid4().hex[:6]}"
    page.fill("#net-name", name)
    page.select_option("#ceiling-level", "USA:SECRET")
    page.locator("#preview-banner").wait_for()
    expect(page.locator("#preview-banner")).to_have_attribute("data-level", "secret")
    expect(page.locator("#preview-portion")).to_have_text("(S//REL TO USA, JPN)")
    # Who may join: jp.j3 (KIMITSU) yes, the journalist no.
    expect(page.locator("#who-may-join tr[data-username='jp.j3']")).to_have_attribute(
        "data-allowed", "yes"
    )
    expect(page.locator("#who-may-join tr[data-username='journalist']")).to_have_attribute(
        "data-allowed", "no"
    )
    page.check("#picker-ceiling input[value=noforn]")
    expect(page.locator("#preview-portion")).to_have_text("(S//NF)")
    expect(page.locator("#who-may-join tr[data-username='jp.j3']")).to_have_attribute(
        "data-allowed", "no"
    )
    screenshot(page, "create-net")
    page.check("#picker-ceiling input[value=rel]")
    expect(page.locator("#preview-portion")).to_have_text("(S//REL TO USA, JPN)")
    page.click("#create-submit")
    page.wait_for_selector("#chat")
    assert page.locator("#net-name").inner_text() == name
    # The owner adds a member from the page; the journalist is refused with the reason.
    page.select_option(
        "#member-person", label="Pat Reporter (uncleared outsider) (journalist, USA)"
    )
    page.click("#add-member button[type=submit]")
    expect(page.locator("#status-message")).to_contain_text("clearance")
    page.select_option("#member-person", label="Col. Ken Sato (JJOC J3) (jp.j3, JPN)")
    page.click("#add-member button[type=submit]")
    jp = page.locator(f"#members li[data-person='{web_server.person_id('jp.j3')}']")
    expect(jp).to_contain_text("JPN")
    expect(jp).to_contain_text("KIMITSU")
    assert console_errors(page) == []


def test_japanese_ui_shows_japanese_labels_and_menus(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = web_server.make_net(
        f"日米調整 {uuid.uuid4().hex[:6]}",
        "SECRET//REL TO USA, JPN",
        ["jp.j3"],
        default_label="SECRET//REL TO USA, JPN",
    )
    web_server.api("us.j3").post(
        f"/api/v1/nets/{net_id}/messages",
        json={"text": "Liaison meeting moved to Yokota.", "label": "SECRET//REL TO USA, JPN"},
    ).raise_for_status()
    # A Japanese national gets Japanese without asking.
    page = login(new_context(locale="ja-JP"), "jp.j3")
    nav = page.locator("nav")
    for word in ("ホーム", "ネット", "地図", "名簿"):
        expect(nav.get_by_text(word, exact=True)).to_be_visible()
    expect(page.locator("#logout")).to_have_text("ログアウト")
    page.goto(f"{web_server.url}/nets/{net_id}")
    page.wait_for_selector("#chat[data-live=true]")
    expect(page.locator("#banner-top")).to_have_text("極秘//REL TO USA, JPN")
    expect(page.locator("#messages li .portion").first).to_have_text("(極//REL TO USA, JPN)")
    screenshot(page, "chat-ja")
    # The spillage guard's findings in Japanese too.
    page.locator("#composer-text").press_sequentially("トマホーク 0412Z 発射", delay=5)
    findings = page.locator("#guard .findings")
    expect(findings).to_contain_text("兵器の運用", timeout=3000)
    expect(findings).to_contain_text("兵器の運用（発射・攻撃など）が含まれています")
    page.goto(f"{web_server.url}/directory")
    expect(page.locator("#counterparts [data-org=jjoc]").first).to_contain_text("統合作戦司令部")
    expect(page.locator("#counterparts [data-org=usfj]")).to_contain_text("在日米軍")
    screenshot(page, "directory-ja")
    # The choice is remembered with the person, on any device: switch to English here, and a
    # new browser (no cookie, Japanese locale) opens in English too; switching back there is
    # what this browser then shows.
    page.click("#lang-switch")
    expect(page.locator("#logout")).to_have_text("Log out")
    page.goto(f"{web_server.url}/")
    expect(page.locator("#logout")).to_have_text("Log out")
    elsewhere = login(new_context(locale="ja-JP"), "jp.j3")
    expect(elsewhere.locator("#logout")).to_have_text("Log out")
    elsewhere.click("#lang-switch")
    expect(elsewhere.locator("#logout")).to_have_text("ログアウト")
    page.goto(f"{web_server.url}/")
    expect(page.locator("#logout")).to_have_text("ログアウト")
    assert console_errors(page) == []
    # Back to following the browser, as the demo people start (other tests log in as jp.j3).
    web_server.api("jp.j3").put("/api/v1/me/language", json={"language": None}).raise_for_status()


def test_pages_need_a_login_and_escape_what_they_show(web_server):
    answer = httpx.get(f"{web_server.url}/nets", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/nets")
    assert (
        "script-src 'self'"
        in httpx.get(f"{web_server.url}/login").headers["content-security-policy"]
    )
    created = web_server.api("us.j3").post(
        "/api/v1/nets",
        json={
            "name": f"Escape {uuid.uuid4().hex[:6]}",
            "ceiling": "UNCLASSIFIED",
            "purpose": "<script>alert(1)</script>",
        },
    )
    created.raise_for_status()
    html = web_server.api("us.j3").get(f"/nets/{created.json()['id']}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # A net that does not exist, or that one is not in, is the same 404.
    assert web_server.api("journalist").get(f"/nets/{created.json()['id']}").status_code == 404
    assert web_server.api("us.j3").get("/nets/no-such-net").status_code == 404
    # A form without the CSRF token is refused.
    posted = web_server.api("us.j3").post(
        "/nets/new",
        data={"name": "x", "ceiling_level": "USA:UNCLASSIFIED"},
        headers={"X-CSRF-Token": ""},
    )
    assert posted.status_code in (401, 403)


def test_my_tokens_page_lists_mints_and_revokes_by_id(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.7flt", lang="en")
    page.click("#my-tokens")
    expect(page.locator("h1")).to_have_text("My tokens")
    page.fill("#new-token input[name=name]", "script")
    page.check("#new-token input[value=write]")
    page.click("#new-token button[type=submit]")
    secret = page.locator("#minted-token").inner_text()
    assert secret.startswith("kyd_")
    row = page.locator("#tokens tbody tr").filter(has_text="script").first
    token_id = row.get_attribute("data-token")
    assert token_id and token_id not in secret
    expect(row).to_contain_text("read, write")
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{web_server.url}/api/v1/me", headers=headers).status_code == 200
    screenshot(page, "tokens")
    row.locator("button").click()
    expect(page.locator(f"#tokens tr[data-token='{token_id}']")).to_have_count(0)
    assert httpx.get(f"{web_server.url}/api/v1/me", headers=headers).status_code == 401
    assert console_errors(page) == []

    ja = login(new_context(), "jp.j3", lang="ja")
    ja.click("#my-tokens")
    expect(ja.locator("h1")).to_have_text("マイトークン")
