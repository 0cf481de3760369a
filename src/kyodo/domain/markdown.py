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


# Characters with a meaning in Markdown or HTML anywhere in a line, and ones that start a block.
_INLINE_SYNTAX = frozenset('\\`*_[]<>!#&~"|\t\n\r\x0b\x0c')
_BLOCK_STARTS = frozenset("-+=>0123456789 ")


def _plain(text: str) -> bool:
    """One line of text with nothing Markdown or HTML would read: its HTML is a paragraph of
    the same characters (most staff messages; markdown-it and nh3 cost ~0.5 ms each)."""
    return (
        bool(text)
        and text[0] not in _BLOCK_STARTS
        and text[-1] != " "
        and _INLINE_SYNTAX.isdisjoint(text)
        and text.isprintable()
    )


# Bidirectional embeddings, overrides and isolates can make a line read as something else
# (a reversed time or grid, "Trojan Source"): they are shown as what they are.
_BIDI_CONTROLS = {cp: f"[U+{cp:04X}]" for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def neutralise_bidi(text: str) -> str:
    """The text with every bidirectional control character replaced by a visible token."""
    return text.translate(_BIDI_CONTROLS)


def render_markdown(text: str) -> str:
    """HTML for a message's text; whatever the input, the output holds only the allowed tags
    and no bidirectional control characters."""
    text = neutralise_bidi(text)
    if _plain(text):
        return f"<p>{text}</p>\n"
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
