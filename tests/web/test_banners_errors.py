"""Every page's banner is a valid marking in its reader's scheme; error pages for browsers in the
reader's language (problem+json for API clients); refusals worded from the catalogue."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from kyodo.labels import parse_marking
from kyodo.scheme_files import default_registry
from kyodo.web.labels_view import SCHEME_OF_LANGUAGE

from tests.web.conftest import PASSWORD, DemoServer

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
BANNER = re.compile(r'<div id="banner-(top|bottom)"[^>]*>([^<]*)</div>')


@pytest.fixture
def browse(web_server: DemoServer) -> Iterator[object]:
    """`browse(username, lang)`: an httpx client logged in as a browser would be, its language
    chosen by the cookie (the person's stored choice cleared, as the demo people start)."""
    clients: list[httpx.Client] = []

    def make(username: str, lang: str) -> httpx.Client:
        web_server.api(username).put(
            "/api/v1/me/language", json={"language": None}
        ).raise_for_status()
        client = httpx.Client(base_url=web_server.url, timeout=15, headers=HTML)
        client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        ).raise_for_status()
        client.cookies.set("kyodo_lang", lang)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def banners(body: str) -> list[str]:
    found = BANNER.findall(body)
    assert [where for where, _ in found] == ["top", "bottom"], body[:300]
    return [text for _, text in found]


def assert_valid_banner(body: str, lang: str) -> str:
    """Both banners the same, parsed by the marking parser in the reader's scheme."""
    top, bottom = banners(body)
    assert top == bottom
    assert "NONE" not in top
    parse_marking(top, default_registry(), policy=SCHEME_OF_LANGUAGE[lang])
    return top


@pytest.mark.parametrize(("username", "lang"), [("us.j3", "en"), ("jp.j3", "ja")])
def test_every_page_banner_parses_in_the_readers_scheme(web_server, browse, username, lang):
    client = browse(username, lang)
    net_id = client.get("/api/v1/nets", headers={"Accept": "application/json"}).json()[0]["id"]
    pages = {
        "/": 200,
        "/nets": 200,
        f"/nets/{net_id}": 200,
        "/nets/new": 200,
        "/map": 200,
        "/directory": 200,
        "/account/tokens": 200,
        "/security": 403,  # not a security officer: the error page
        "/no/such/page": 404,
        f"/nets/{uuid.uuid4()}": 404,
    }
    for path, status in pages.items():
        answer = client.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert_valid_banner(answer.text, lang)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_security_page_banner_parses_in_the_readers_scheme(web_server, browse, lang):
    # A refused membership and a NOFORN net put labels of differing releasability in the log.
    net_id = web_server.make_net(f"Banner {uuid.uuid4().hex[:6]}", "SECRET//NOFORN", [])
    web_server.api("us.j3").post(
        f"/api/v1/nets/{net_id}/members", json={"person_id": web_server.person_id("jp.j3")}
    )
    answer = browse("secoff", lang).get("/security")
    assert answer.status_code == 200
    banner = assert_valid_banner(answer.text, lang)
    assert banner != ("UNCLASSIFIED" if lang == "en" else "区分なし")


def test_a_join_releasable_to_no_nation_is_marked_for_its_reader():
    from kyodo.web.labels_view import for_reader, view

    registry = default_registry()
    us_only = parse_marking("SECRET//NOFORN", registry)
    jp_only = parse_marking("極秘//日本限り", registry, policy="JPN")
    joined = us_only.join(jp_only)
    assert joined.releasable_to == frozenset()
    for lang, nation in (("en", "USA"), ("ja", "JPN")):
        banner = view(for_reader(joined, nation), registry, lang).banner
        assert "NONE" not in banner
        parsed = parse_marking(banner, registry, policy=SCHEME_OF_LANGUAGE[lang])
        assert parsed.releasable_to == frozenset({nation})


def test_unknown_page_is_an_html_page_in_the_readers_language(web_server, browse):
    for lang, words in (("en", "This page does not exist"), ("ja", "このページは存在しない")):
        answer = browse("jp.j3", lang).get("/no/such/page")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert words in answer.text
        assert 'aria-label="' in answer.text and 'href="/nets"' in answer.text  # navigation
        assert f'<html lang="{lang}">' in answer.text


def test_missing_and_forbidden_objects_in_japanese(web_server, browse):
    client = browse("jp.j3", "ja")
    missing = client.get(f"/nets/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert "このページは存在しないか、閲覧する権限がありません。" in missing.text
    assert "no net" not in missing.text  # not the API's English
    forbidden = client.get("/security")
    assert forbidden.status_code == 403
    assert "この操作は許可されていません。" in forbidden.text
    assert "この操作にはsecurity_officerの役割が必要です。" in forbidden.text
    assert "required" not in forbidden.text


def test_a_net_one_is_not_in_answers_as_missing_in_japanese(web_server, browse):
    net_id = web_server.make_net(f"Closed {uuid.uuid4().hex[:6]}", "SECRET//REL TO USA, JPN", [])
    answer = browse("jp.j3", "ja").get(f"/nets/{net_id}")
    assert answer.status_code == 404  # never says the net exists
    assert "このページは存在しないか" in answer.text


def test_session_ended_page_links_to_login(web_server):
    with httpx.Client(base_url=web_server.url, timeout=15, headers=HTML) as anonymous:
        anonymous.cookies.set("kyodo_lang", "ja")
        answer = anonymous.get("/no/such/page?x=1")
        assert answer.status_code == 404
        assert 'href="/login?next=/no/such/page%3Fx%3D1"' in answer.text
        assert_valid_banner(answer.text, "ja")
        assert_valid_banner(anonymous.get("/login").text, "ja")


def test_api_clients_keep_problem_json(web_server, browse):
    client = browse("us.j3", "en")
    for path, headers in (
        ("/no/such/page", {"Accept": "application/json"}),
        ("/api/v1/no-such", HTML),
        ("/api/v1/nets/" + str(uuid.uuid4()), HTML),
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
    refused = client.get("/api/v1/audit", headers={"Accept": "application/json"})
    assert refused.status_code == 403, refused.text
    assert "reason_codes" in refused.json(), refused.text
    assert refused.json()["reason_codes"] == [
        {"code": "policy.role", "params": {"role": "security_officer"}}
    ]


def test_refusals_carry_codes_with_parameters(web_server):
    net_id = web_server.make_net(f"Codes {uuid.uuid4().hex[:6]}", "SECRET//REL TO USA, JPN", [])
    refused = web_server.api("us.j3").post(
        f"/api/v1/nets/{net_id}/members", json={"person_id": web_server.person_id("journalist")}
    )
    assert refused.status_code == 403
    codes = [c["code"] for c in refused.json()["reason_codes"]]
    assert codes[0] == "policy.entry" and "policy.clearance" in codes


def test_japanese_officer_picker_starts_in_the_japanese_scheme(web_server, browse):
    page = browse("jp.j3", "ja").get("/nets/new").text
    ceiling = page[page.index('id="ceiling-level"') :]
    ceiling = ceiling[: ceiling.index("</select>")]
    assert re.search(r'<option value="JPN:[^"]+" selected', ceiling)
    assert ceiling.index('value="JPN:') < ceiling.index('value="USA:')
    english = browse("us.j3", "en").get("/nets/new").text
    assert '<option value="USA:SECRET" selected' in english


def test_reasons_are_worded_in_the_readers_language_and_scheme():
    from kyodo.policy import Action, Resource, decide, make_subject
    from kyodo.web.reasons import reason_text

    registry = default_registry()
    secret = parse_marking("SECRET//REL TO USA, JPN", registry)
    subject = make_subject(registry, id="p1", nation="USA", clearance="CONFIDENTIAL")
    decision = decide(subject, Action.READ, Resource(secret))
    assert not decision.allowed
    (reason,) = decision.codes
    params = dict(reason.params)
    assert reason.code == "policy.clearance"
    assert reason_text(reason.code, params, "en", registry) == (
        "The clearance (CONFIDENTIAL) is below SECRET."
    )
    assert (
        reason_text(reason.code, params, "ja", registry) == "適格性（秘）が極秘に達していません。"
    )
    assert reason_text("policy.unknown", {}, "ja", registry) is None
