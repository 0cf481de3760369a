"""The login page, as served to each language (what a browser gets before anyone logs in)."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("ja", '共同 <span lang="en">Kyodo</span>'), ("en", 'Kyodo <span lang="ja">共同</span>')],
)
async def test_the_login_page_names_kyodo_once_in_each_form(
    client: httpx.AsyncClient, lang: str, heading: str
) -> None:
    client.cookies.set("kyodo_lang", lang)
    page = await client.get("/login")
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert "共同 共同" not in page.text
