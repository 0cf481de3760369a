"""The spillage guard in the composer, as a person sees it: where the text belongs, in their
language, a one-click raise to a label they may use, and all of it in view next to the composer."""

from __future__ import annotations

import re
import uuid

import pytest

pytestmark = pytest.mark.slow

OPERATIONAL = (
    "TIME NOW 1130. Tomahawk launch from USS Shiloh at 1345L, TOT 1410L, grid 52RCU1234567890."
)


def _net_id(web_server, username: str, name: str) -> str:
    nets = web_server.api(username).get("/api/v1/nets")
    nets.raise_for_status()
    return next(n["id"] for n in nets.json() if n["name"] == name)


def _bilateral(web_server, messages: int = 0) -> str:
    """A net shaped like the demo's J3 Combined Operations, with `messages` routine ones."""
    net_id = web_server.make_net(
        f"J3 bilateral {uuid.uuid4().hex[:6]}",
        "SECRET//NOFORN",
        ["jp.j3"],
        entry="SECRET//REL TO USA, JPN",
        default_label="SECRET//REL TO USA, JPN",
    )
    api = web_server.api("us.j3")
    for i in range(messages):
        api.post(
            f"/api/v1/nets/{net_id}/messages",
            json={"text": f"Routine note {i + 1}: rooms and schedules as planned."},
        ).raise_for_status()
    return net_id


def _open(web_server, login, context, username, net_id, lang):
    page = login(context, username, lang=lang)
    page.goto(f"{web_server.url}/nets/{net_id}")
    page.wait_for_selector("#chat[data-live=true]")
    return page


def _type(page, text: str, label: str | None = None) -> None:
    if label is not None:
        page.select_option("#composer-label", label)
    page.fill("#composer-text", text)
    page.locator("#composer-text").dispatch_event("input")
    page.wait_for_selector("#guard[data-refused=true] .reason")


def _refusals(web_server, net_id: str) -> int:
    records = web_server.api("secoff").get(
        "/api/v1/audit",
        params={"action": "message.guard_refused", "object_id": net_id, "limit": 200},
    )
    records.raise_for_status()
    return len(records.json()["items"])


def test_an_unclassified_net_says_where_the_text_belongs_and_the_refused_post_is_audited(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = _net_id(web_server, "us.j3", "HQ Staff Admin")
    page = _open(web_server, login, new_context(), "us.j3", net_id, "en")
    shown = page.locator("#messages li").count()
    _type(page, OPERATIONAL)
    guard = page.locator("#guard")
    reason = guard.locator(".reason").inner_text()
    where = r"belongs in a (CONFIDENTIAL|SECRET|TOP SECRET) net, not in HQ Staff Admin"
    assert re.search(where, reason), reason
    assert guard.locator(".findings li").count() > 0
    assert page.locator("#guard-raise").count() == 0  # no label in this net covers it
    # What to do: the nets of theirs that can carry it, as links.
    assert guard.locator(".elsewhere li a").count() >= 1
    assert "releasability" not in guard.inner_text()  # no internal error
    before = _refusals(web_server, net_id)
    page.click("#composer-send")
    page.wait_for_selector("#guard .refused")
    assert page.locator("#override").is_hidden()  # us.j3 may not override
    assert guard.locator(".elsewhere li a").count() >= 1  # still there after the refusal
    assert page.locator("#messages li").count() == shown
    assert _refusals(web_server, net_id) == before + 1
    screenshot(page, "refused")
    assert [e for e in console_errors(page) if "422" not in e] == []


def test_a_japanese_reader_reads_the_refusal_in_japanese(
    web_server, new_context, login, screenshot, console_errors
):
    net_id = _net_id(web_server, "jp.j3", "HQ Staff Admin")
    page = _open(web_server, login, new_context(), "jp.j3", net_id, "ja")
    _type(page, OPERATIONAL)
    page.click("#composer-send")
    page.wait_for_selector("#guard .refused")
    guard = page.locator("#guard")
    reason = guard.locator(".reason").inner_text()
    assert re.search(r"(秘|極秘|機密)のネットで扱うべき内容です", reason), reason
    # Every line the catalogue writes is Japanese: no English sentence in the box (the words
    # found, the rules' names and explanations aside, which come from the rules' own text).
    lines = guard.locator(":scope > p").all_inner_texts()
    assert len(lines) >= 3  # refused, the reason, what was found (and where it may go)
    for line in lines:
        assert not re.search(r"\b(the|this|net|label|needs|found)\b", line, re.IGNORECASE), line
    screenshot(page, "refused-ja")
    assert [e for e in console_errors(page) if "422" not in e] == []


@pytest.mark.parametrize(
    ("username", "lang", "button", "portion"),
    [
        (
            "us.j3",
            "en",
            "Raise the label to SECRET//REL TO USA, JPN and post",
            "(S//REL TO USA, JPN)",
        ),
        ("jp.j3", "ja", "区分を極秘//REL TO JPN, USAに上げて投稿", "(極//REL TO JPN, USA)"),
    ],
)
def test_one_click_raises_the_label_to_one_that_keeps_the_partner_and_posts(
    web_server, new_context, login, screenshot, console_errors, username, lang, button, portion
):
    net_id = _bilateral(web_server)
    page = _open(web_server, login, new_context(), username, net_id, lang)
    _type(page, OPERATIONAL, "UNCLASSIFIED")
    raise_button = page.locator("#guard-raise")
    assert raise_button.inner_text() == button
    screenshot(page, f"raise-{username}")
    raise_button.click()
    posted = page.locator("#messages li", has_text="Tomahawk launch")
    posted.wait_for()
    assert posted.locator(".portion").inner_text() == portion
    assert page.locator("#composer-text").input_value() == ""
    # Both partners read it: the suggestion did not cut the other nation out.
    other = "jp.j3" if username == "us.j3" else "us.j3"
    texts = [
        m["text"]
        for m in web_server.api(other).get(f"/api/v1/nets/{net_id}/messages").json()["items"]
    ]
    assert OPERATIONAL in texts
    assert console_errors(page) == []


@pytest.mark.parametrize("viewport", [(1440, 900), (1024, 768)], ids=lambda v: f"{v[0]}x{v[1]}")
@pytest.mark.parametrize("username", ["us.j3", "jp.j3"])
def test_what_the_guard_says_is_in_view_next_to_the_composer(
    web_server, new_context, login, screenshot, viewport, username
):
    net_id = _bilateral(web_server, messages=15)
    width, height = viewport
    context = new_context(viewport={"width": width, "height": height})
    lang = "en" if username == "us.j3" else "ja"
    page = _open(web_server, login, context, username, net_id, lang)
    page.evaluate("window.scrollTo(0, 0)")
    _type(page, OPERATIONAL, "UNCLASSIFIED")
    page.evaluate("window.scrollTo(0, 0)")
    bottom_banner = page.locator("#banner-bottom").bounding_box()
    assert bottom_banner is not None
    for selector in ("#composer-text", "#composer-send", "#guard .reason", "#guard-raise"):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= bottom_banner["y"] + 1, (
            selector,
            box,
            bottom_banner,
        )
    screenshot(page, f"{username}-{width}x{height}")


def test_who_may_override_is_offered_it_in_an_unclassified_net(
    web_server, new_context, login, screenshot, console_errors
):
    admin = web_server.api("admin")
    person = admin.get("/api/v1/people/" + web_server.person_id("us.j2")).json()
    if "may_override" not in person["roles"]:
        admin.patch(
            f"/api/v1/people/{person['id']}", json={"roles": [*person["roles"], "may_override"]}
        ).raise_for_status()
    net_id = _net_id(web_server, "us.j2", "HQ Staff Admin")
    page = _open(web_server, login, new_context(), "us.j2", net_id, "en")
    text = f"{OPERATIONAL} (exercise script {uuid.uuid4().hex[:6]})"
    _type(page, text)
    page.click("#composer-send")
    page.wait_for_selector("#override-send:not([hidden])")
    page.fill("#override-justification", "ok")
    page.click("#override-send")
    expect_short = page.locator("#override-text")
    expect_short.filter(has_text="at least 15 characters").wait_for()
    page.fill("#override-justification", "Quoted from the public exercise press release.")
    page.click("#override-send")
    page.locator("#messages li", has_text="exercise script").wait_for()
    screenshot(page, "override-unclassified")
    assert [e for e in console_errors(page) if "422" not in e] == []
