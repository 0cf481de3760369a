"""An event received as CoT XML passed on byte for byte, but for the label Kyodo must set.

What changes (and nothing else, see docs/cot-labels.md): in the `<event>` start tag, the values
of `access` and `caveat` are replaced in place (removed when the label has none, added after
the last attribute when the sender gave none); the first releasability attribute
(`releasableTo`, `releaseableTo` or `rel_to`) becomes `releasableTo` with the label's value in
its place and any other spelling is removed (added after the last attribute when absent). In
`<detail>`, every `ConfidentialityLabel` child is removed and the label's element is appended as
its last child (a `<detail/>` is opened for it, and a missing `<detail>` is added as the last
child of `<event>`). The XML declaration the sender put before the event is not passed on, and
the end tag is written `</event>`. An event whose content holds what a naive splitter would cut
it at (`<event`, `</event` or `<?xml`, in any case, in CDATA, a comment, a processing
instruction or an element's name) is not passed on: it is written again from its fields, with
its detail escaped (`Detail.escaped`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.event import RELEASABLE_TO_NAMES
from kyodo.cot.labelling import LABEL_TAG, label_attributes, label_element_xml

if TYPE_CHECKING:
    from kyodo.cot.event import Event
    from kyodo.labels import Label, SchemeRegistry

# One attribute of a start tag that expat accepted: white space, name, "=", quoted value.
_ATTRIBUTE = re.compile(rb"(\s+)([^\s=/>]+)\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_EVENT_NAME = b"<event"
_EMPTY_END = re.compile(rb"\s*/>\Z")
_RELEASABLE = RELEASABLE_TO_NAMES[0]
_LABEL_NAMES = frozenset({"access", "caveat", *RELEASABLE_TO_NAMES})


def relabelled_xml(event: Event, label: Label, registry: SchemeRegistry) -> bytes | None:
    """The event's XML as received with `label` set in place of its own; None when the event
    was not parsed from XML (it has no `source`), and must be written from its fields."""
    source = event.source
    if source is None:
        return None
    parsed = source.parsed
    data = parsed.data
    root = parsed.span(parsed.root)
    if root.inner_start == root.end:
        return None  # <event …/>: a control event at most, never passed on
    if xmltext.looks_like_a_boundary(parsed.text(root.inner_start, root.inner_end)):
        # Valid XML (in CDATA, a comment…), but a tool that splits streams naively would see
        # another event there, unlabelled: such an event is written again, escaped.
        return None
    wanted = label_attributes(label, registry)
    start_tag = _start_tag(
        data[root.start : root.inner_start],
        {"access": wanted.access, "caveat": wanted.caveat, _RELEASABLE: wanted.releasable_to},
    )
    # The parsed detail is the text of `<detail>` as received; only label elements leave it.
    inner = (event.detail.without(LABEL_TAG).xml + label_element_xml(label, registry)).encode()
    # The end tag is written "</event>" whatever white space the sender put in it: what a
    # naive splitter looks for.
    content, end = root.inner_start, root.inner_end
    if source.detail is None:
        body = [data[content:end], b"<detail>", inner, b"</detail>"]
    else:
        span = parsed.span(source.detail)
        if span.inner_start == span.end:  # <detail/>: open it for the label element
            opening = _EMPTY_END.sub(b">", data[span.start : span.end])
            body = [data[content : span.start], opening, inner, b"</detail>", data[span.end : end]]
        else:
            body = [data[content : span.inner_start], inner, data[span.inner_end : end]]
    return b"".join([start_tag, *body, b"</event>"])


def _start_tag(tag: bytes, values: dict[str, str | None]) -> bytes:
    """The `<event …>` start tag with the label attributes set to `values` (None: absent);
    every other attribute, and all white space, kept as it was."""
    pending = dict(values)
    parts = [_EVENT_NAME]
    at = len(_EVENT_NAME)
    while (found := _ATTRIBUTE.match(tag, at)) is not None:
        at = found.end()
        name = found.group(2).decode()
        if name not in _LABEL_NAMES:
            parts.append(found.group())
            continue
        # The releasability attribute keeps the place of the first spelling the sender used.
        key = _RELEASABLE if name in RELEASABLE_TO_NAMES else name
        if key in pending and (value := pending.pop(key)) is not None:
            parts.append(found.group(1) + _attribute(key, value))
        else:
            pending.pop(key, None)
    parts.extend(b" " + _attribute(k, v) for k, v in pending.items() if v is not None)
    parts.append(tag[at:])  # white space before ">"
    return b"".join(parts)


def _attribute(name: str, value: str) -> bytes:
    return f'{name}="{xmltext.attribute(value)}"'.encode()
