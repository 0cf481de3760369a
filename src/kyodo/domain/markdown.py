"""A safe Markdown subset rendered to sanitised HTML (no raw HTML, no images, safe links only)."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "del", "s"}
_ATTRIBUTES = {"a": {"href"}}


@cache
def _parser() -> MarkdownIt:
    # commonmark without raw HTML; images and tables are not part of the subset.
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .disable(["image"])
        .enable("strikethrough")
    )


def render_markdown(text: str) -> str:
    """HTML for a message's text; whatever the input, the output holds only the allowed tags."""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
