"""Message Markdown: plain one-line text skips the parser and comes out exactly as it would."""

from __future__ import annotations

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from kyodo.domain import markdown
from kyodo.domain.markdown import render_markdown


def _slow(text: str) -> str:
    return nh3.clean(
        markdown._parser().render(text),
        tags=markdown._TAGS,
        attributes=markdown._ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


ORDINARY = [
    "Logistics sync at the usual place",
    "J3's re-check: 10:00, ok? (see the J4 folder) 50% done; e-mail me",
    "日米調整会議の資料を共有フォルダに置きました",
    "Weather brief moved to the afternoon slot.",
    "café ü ™ a  b",
]


def test_ordinary_messages_take_the_fast_path_with_the_same_html() -> None:
    for text in ORDINARY:
        assert markdown._plain(text), text
        assert render_markdown(text) == _slow(text)


def test_markdown_and_html_do_not_take_the_fast_path() -> None:
    for text in ("a *b*", "- item", "1. first", "<b>x</b>", "a & b", "    code", "x\ny", "# h"):
        assert not markdown._plain(text), text
    assert render_markdown("<script>alert(1)</script>") == _slow("<script>alert(1)</script>")
    assert "<script" not in render_markdown("<script>alert(1)</script>")


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_fast_path_output_equals_the_parser_output(text: str) -> None:
    assert render_markdown(text) == _slow(text)


PLAINISH = "abcXYZ019 .,:;'()%/?-=+@$^{}日米調整ü™" + '*_<>&#!`[]~"|\n\t\\'


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=PLAINISH, min_size=1, max_size=40))
def test_fast_path_on_near_plain_text(text: str) -> None:
    # Mostly characters the fast path accepts, some it must refuse: both ways give one HTML.
    assert render_markdown(text) == _slow(text)
