"""Browser tests of the coordination action pages: the inbox and an action page in English and
Japanese, a withheld field, a step taken from the page and a refused one, with screenshots."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SIZES = {"": {"width": 1440, "height": 900}, "-1024": {"width": 1024, "height": 768}}


def _action_id(web_server: Any, username: str, kind: str) -> str:
    """The id of the demo action of this kind, as `username` lists it."""
    listed = web_server.api(username).get("/api/v1/actions", params={"kind": kind})
    listed.raise_for_status()
    items = [a for a in listed.json()["items"] if a["fields"]["title"].get("value")]
    demo = [a for a in items if not a["fields"]["title"]["value"].startswith("Web test")]
    return str(demo[0]["id"])


def _shots(page: Any, screenshot: Any, name: str) -> None:
    """Screenshots at 1440×900 and 1024×768; KYODO_UPDATE_DOCS_IMG=1 copies them to docs/img."""
    for suffix, size in SIZES.items():
        page.set_viewport_size(size)
        shot = screenshot(page, f"{name}{suffix}")
        if os.environ.get("KYODO_UPDATE_DOCS_IMG"):
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, DOCS_IMG / f"{name}{suffix}.png")


def test_inbox_in_english_overdue_first_with_markings(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.j3", lang="en")
    page.click("#nav-actions")
    page.wait_for_url(re.compile(r"/actions$"))
    assert page.title().startswith("SECRET")
    rows = page.locator("#inbox tbody tr")
    assert rows.count() >= 3
    # Overdue first: the demo tasker's suspense passed yesterday.
    first = rows.nth(0)
    assert first.get_attribute("data-kind") == "tasker"
    assert "overdue" in (first.get_attribute("class") or "")
    assert "overdue" in first.locator(".deadline").inner_text()
    for i in range(rows.count()):  # each row carries its portion marking
        assert rows.nth(i).locator(".marking").count() >= 1
    text = first.locator(".deadline").inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d{4}Z \(\d{4} JST\)", text), text
    # The inbox shows no NOFORN field: its banner is the join of what it shows.
    assert "NOFORN" not in page.inner_text("#banner-top")
    assert page.inner_text("#banner-top") == page.inner_text("#banner-bottom")
    _shots(page, screenshot, "actions-inbox-en")
    # Filters: by kind, then "waiting on me".
    page.select_option("#filter-kind", "rfi")
    page.wait_for_url(re.compile(r"kind=rfi"))
    kinds = {
        page.locator("#inbox tbody tr").nth(i).get_attribute("data-kind")
        for i in range(page.locator("#inbox tbody tr").count())
    }
    assert kinds == {"rfi"}
    page.click("#scopes a[data-scope=waiting]")
    page.wait_for_url(re.compile(r"scope=waiting"))
    assert page.locator("#scopes a[aria-current=page]").get_attribute("data-scope") == "waiting"
    assert console_errors(page) == []


def test_action_page_in_english_shows_fields_matrix_and_signoff(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "us.j3", lang="en")
    facility = _action_id(web_server, "us.j3", "facility_access")
    page.goto(f"{web_server.url}/actions/{facility}")
    # us.j3 reads the NOFORN weapon systems: its value is shown, and the banner rises to it.
    weapons = page.locator("[data-field=vehicles_weapon_systems] dd")
    assert "NMESIS" in weapons.inner_text()
    assert "NOFORN" in page.inner_text("#banner-top")
    assert page.inner_text("#banner-top") == page.inner_text("#banner-bottom")
    assert page.locator("#signoff tr[data-nation=USA][data-signed=no]").count() == 1
    assert page.locator("#signoff tr[data-nation=JPN][data-signed=no]").count() == 1
    assert re.search(r"\d{4}Z \(\d{4} JST\)", page.inner_text("[data-field=suspense] dd"))
    assert page.locator("#timeline li").count() == 3
    _shots(page, screenshot, "actions-page-en")
    tasker = _action_id(web_server, "us.j3", "tasker")
    page.goto(f"{web_server.url}/actions/{tasker}")
    matrix = page.locator("#comment-matrix tbody tr").first
    assert matrix.get_attribute("data-type") == "critical"
    assert "Annex B, para 3" in matrix.inner_text()
    assert page.locator("#concurrences tr[data-answer=non_concur]").count() == 1
    assert console_errors(page) == []


def test_japanese_inbox_and_page_with_a_withheld_field(
    web_server, new_context, login, screenshot, console_errors
):
    page = login(new_context(), "jp.j3", lang="ja")
    page.click("#nav-actions")
    page.wait_for_url(re.compile(r"/actions$"))
    assert page.inner_text("h1") == "調整案件"
    assert page.locator("#inbox tbody tr").count() >= 3
    first = page.locator("#inbox tbody tr").first
    assert "期限超過" in first.inner_text()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日\(.\) \d\d:\d\d JST（\d{4}Z）", first.inner_text())
    assert page.inner_text("#banner-top").startswith("極秘")
    _shots(page, screenshot, "actions-inbox-ja")
    facility = _action_id(web_server, "jp.j3", "facility_access")
    page.goto(f"{web_server.url}/actions/{facility}")
    # The NOFORN weapon systems: withheld with its marking, never the value; the banner
    # stays at what jp.j3 reads.
    weapons = page.locator("[data-field=vehicles_weapon_systems] dd")
    assert weapons.locator("[data-withheld]").count() == 1
    assert "非開示" in weapons.inner_text()
    body = page.inner_text("body")
    assert "NMESIS" not in body and "JLTV" not in body
    assert "NMESIS" not in page.content()
    assert page.inner_text("#banner-top") == "極秘//REL TO USA, JPN"
    assert page.inner_text("#banner-bottom") == page.inner_text("#banner-top")
    assert page.inner_text("#signoff-title") == "国別の署名"
    _shots(page, screenshot, "actions-page-ja")
    assert console_errors(page) == []


def test_a_step_taken_from_the_page_and_a_refused_one(
    web_server, new_context, login, screenshot, console_errors
):
    created = web_server.api("us.j3").post(
        "/api/v1/actions",
        json={
            "kind": "tasker",
            "label": "SECRET//REL TO USA, JPN",
            "owner_org": "usfj",
            "opr_org": "jjoc",
            "title": {"value": "Web test: issue from the page"},
            "fields": {"suspense": {"value": "2027-01-15T03:00:00Z"}},
        },
    )
    created.raise_for_status()
    action_id = created.json()["action"]["id"]
    us = login(new_context(), "us.j3", lang="en")
    us.goto(f"{web_server.url}/actions/{action_id}")
    assert us.inner_text("[data-field=suspense] dd").endswith("2027-01-15 0300Z (1200 JST)")
    assert us.get_attribute("#action-state", "data-state") == "DRAFT"
    # Only the steps us.j3 may take: the owner issues or cancels; the OPR's are not offered.
    offered = {b.get_attribute("data-step") for b in us.locator("#step-form button").all()}
    assert offered == {"issue", "cancel"}
    us.fill("#step-reason", "for the exercise")
    us.click("#step-form button[data-step=issue]")
    us.wait_for_url(re.compile(r"done=step"))
    assert us.get_attribute("#action-state", "data-state") == "ISSUED"
    assert "for the exercise" in us.inner_text("#timeline")
    # The OPR's person sees what waits on them, in Japanese.
    jp = login(new_context(), "jp.j3", lang="ja")
    jp.goto(f"{web_server.url}/actions/{action_id}")
    assert jp.locator("#step-form button[data-step=acknowledge]").inner_text() == "受領確認"
    # A refused step: the demo tasker has an open non-concurrence; the service's reason is
    # shown in Japanese.
    tasker = _action_id(web_server, "jp.j3", "tasker")
    jp.goto(f"{web_server.url}/actions/{tasker}")
    jp.click("#step-form button[data-step=ready_for_signature]")
    error = jp.locator("#action-error")
    error.wait_for()
    assert "の不同意が未解決です" in error.inner_text()
    assert jp.get_attribute("#action-state", "data-state") == "IN_COORDINATION"
    screenshot(jp, "refused-ja")
    assert console_errors(us) == []
    # The refusal page comes with its 403, which chromium logs as a failed load; nothing else.
    assert [e for e in console_errors(jp) if "status of 403" not in e] == []


def test_a_withheld_title_and_deadline_in_the_inbox(web_server, new_context, login, console_errors):
    # us.j3 writes a NOFORN title and suspense on an action jp.j3's command is party to.
    created = web_server.api("us.j3").post(
        "/api/v1/actions",
        json={
            "kind": "tasker",
            "label": "SECRET//REL TO USA, JPN",
            "owner_org": "usfj",
            "opr_org": "jjoc",
            "title": {"value": "Web test: HIMARS move", "label": "SECRET//NOFORN"},
            "fields": {
                "suspense": {"value": "2026-01-01T00:00:00Z", "label": "SECRET//NOFORN"},
            },
        },
    )
    created.raise_for_status()
    action_id = created.json()["action"]["id"]
    page = login(new_context(), "jp.j3", lang="en")
    page.goto(f"{web_server.url}/actions")
    row = page.locator(f"#inbox tr[data-action='{action_id}']")
    assert "withheld" in row.locator(".action-title").inner_text()
    assert "withheld" in row.locator(".deadline").inner_text()
    # A withheld deadline moves nothing: not overdue, not first.
    assert "overdue" not in (row.get_attribute("class") or "")
    assert "HIMARS" not in page.content() and "2026-01-01" not in page.content()
    assert "NOFORN" not in page.inner_text("#banner-top")
    page.goto(f"{web_server.url}/actions/{action_id}")
    assert page.locator("[data-field=title] [data-withheld]").count() == 1
    assert "HIMARS" not in page.content()
    assert console_errors(page) == []


def test_a_step_form_with_bad_input_is_answered_422_and_changes_nothing(web_server):
    api = web_server.api("us.j3")
    created = api.post(
        "/api/v1/actions",
        json={
            "kind": "tasker",
            "label": "SECRET//REL TO USA, JPN",
            "owner_org": "usfj",
            "opr_org": "jjoc",
            "title": {"value": "Web test: bad form"},
        },
    )
    created.raise_for_status()
    action_id = created.json()["action"]["id"]
    too_long = api.post(f"/actions/{action_id}/step", data={"step": "issue", "reason": "x" * 2001})
    assert too_long.status_code == 422
    assert "at most 2000" in too_long.text
    unknown = api.post(f"/actions/{action_id}/step", data={"step": "close", "reason": ""})
    assert unknown.status_code == 409
    assert "cannot be taken from Draft" in unknown.text
    state = api.get(f"/api/v1/actions/{action_id}").json()["action"]["state"]
    assert state == "DRAFT"


def test_signing_from_the_page_and_a_refused_signature(
    web_server, new_context, login, screenshot, console_errors
):
    created = web_server.api("us.j3").post(
        "/api/v1/actions",
        json={
            "kind": "liaison_request",
            "label": "SECRET//REL TO USA, JPN",
            "owner_org": "usfj",
            "opr_org": "jjoc",
            "bilateral": True,
            "title": {"value": "Web test: liaison officers to JJOC"},
        },
    )
    created.raise_for_status()
    action_id = created.json()["action"]["id"]
    us = login(new_context(), "us.j3", lang="en")
    us.goto(f"{web_server.url}/actions/{action_id}")
    us.click("#sign")
    us.wait_for_url(re.compile(r"done=signed"))
    assert us.locator("#signoff tr[data-nation=USA][data-signed=yes]").count() == 1
    assert us.locator("#signoff tr[data-nation=JPN][data-signed=no]").count() == 1
    assert us.locator("#sign").count() == 0  # signed for the USA this round
    # jp.j3 may not read the NOFORN weapon systems of the Ishigaki request: nobody signs blind.
    jp = login(new_context(), "jp.j3", lang="ja")
    jp.goto(f"{web_server.url}/actions/{_action_id(web_server, 'jp.j3', 'facility_access')}")
    jp.click("#sign")
    jp.locator("#action-error").wait_for()
    assert "確認できないまま署名することはできません" in jp.inner_text("#action-error")
    assert jp.locator("#signoff tr[data-nation=JPN][data-signed=no]").count() == 1
    assert console_errors(us) == []
