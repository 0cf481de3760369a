"""Kyodo labels in CoT: the `access`/`caveat`/`releasableTo` attributes and the 4774 element.

Written (by `apply_label`): the three attributes on `<event>` and a STANAG 4774
`ConfidentialityLabel` element as the last child of `<detail>`, replacing any the event had.
Read (by `read_label`): the element if present, the attributes if present; where both say
something and they disagree, the more restrictive (their join) applies and the disagreement is
returned for the caller to log. The mapping is described for other systems in
`docs/cot-labels.md`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from kyodo.cot import xmltext
from kyodo.cot.errors import CotError
from kyodo.errors import KyodoError, LabelError
from kyodo.labels import (
    Label,
    join_all,
    label_from_element,
    label_to_element,
    nation_list,
    parse_marking,
)
from kyodo.labels.marking import NO_NATION, render_marking
from kyodo.labels.scheme import CategoryKind, normalise_token
from kyodo.labels.stanag import NAMESPACE

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from kyodo.cot.event import Event
    from kyodo.labels import Level, Scheme, SchemeRegistry

LABEL_TAG = f"{{{NAMESPACE}}}ConfidentialityLabel"
# `access` values that say nothing: ATAK writes "Undefined" on every event of a device that
# has no access setting.
NO_ACCESS = frozenset({"", "undefined", "unspecified", "none", "n/a"})
_NATION_SEPARATOR = re.compile(r"[\s,、]+")
_CAVEAT_ITEM = re.compile(r"[,、]")


@dataclass(frozen=True, slots=True)
class LabelReading:
    """What an event says about its label: `label` is the one that applies (None when the event
    carries none, so the feed's default applies); `element` and `attributes` are the two
    sources; `disagreement` says, for the log, how they differ when they do."""

    label: Label | None
    element: Label | None = None
    attributes: Label | None = None
    disagreement: str | None = None


@dataclass(frozen=True, slots=True)
class LabelAttributes:
    """The values of the label attributes of `<event>` (None: the attribute is omitted)."""

    access: str
    caveat: str | None
    releasable_to: str | None


def label_attributes(label: Label, registry: SchemeRegistry) -> LabelAttributes:
    """The `access`, `caveat` and `releasableTo` attribute values of a label.

    `access` is the level's id (`SECRET`, `GOKUHI`, `NATO SECRET`…); `caveat` the restrictive
    and informative category ids, space-separated; `releasableTo` the nations, space-separated
    alpha-3 codes with the originator first (`NONE` for none), omitted when releasability is
    unrestricted. NOFORN is written as `releasableTo="USA"`, never as a caveat: whose nation
    a NOFORN means depends on the scheme a reader finds the access level in, and `UNCLASSIFIED`
    is a level of several.
    """
    tokens = [*sorted(label.restrictive), *sorted(label.informative)]
    separator = "/" if any(" " in token for token in tokens) else " "
    rel = label.releasable_to
    releasable: str | None = None
    if rel is not None:
        releasable = " ".join(nation_list(rel, registry, label.policy)) if rel else NO_NATION
    return LabelAttributes(label.level, separator.join(tokens) or None, releasable)


@lru_cache(maxsize=1024)
def label_element_xml(label: Label, registry: SchemeRegistry) -> str:
    """The label's `ConfidentialityLabel` element, declaring the 4774 namespace as its default
    (ElementTree would invent an `ns0` prefix, or take one registered process-wide). Cached:
    a feed carries few distinct labels."""
    return _element_xml(label_to_element(label, registry), f' xmlns="{NAMESPACE}"')


def _element_xml(element: ET.Element, declaration: str = "") -> str:
    # The label core's element: tags in the 4774 namespace, attributes unqualified, text only
    # in leaves.
    local = element.tag.rpartition("}")[2]
    attributes = "".join(f' {k}="{xmltext.attribute(v)}"' for k, v in element.attrib.items())
    inner = xmltext.text(element.text or "") + "".join(_element_xml(c) for c in element)
    return f"<{local}{declaration}{attributes}>{inner}</{local}>"


def apply_label(event: Event, label: Label, registry: SchemeRegistry) -> Event:
    """The event carrying `label`: the three attributes set, and its 4774 element as the last
    child of `<detail>` in place of any label element the event had; nothing else changes."""
    attributes = label_attributes(label, registry)
    detail = event.detail.without(LABEL_TAG).appended(label_element_xml(label, registry))
    return replace(
        event,
        access=attributes.access,
        caveat=attributes.caveat,
        releasable_to=attributes.releasable_to,
        detail=detail,
    )


def read_label(event: Event, registry: SchemeRegistry) -> LabelReading:
    """The label an event carries; CotError when a part of it is not a label Kyodo knows."""
    notes: list[str] = []
    element: Label | None = None
    found = event.detail.findall(LABEL_TAG)
    if found:
        try:
            labels = [label_from_element(e, registry) for e in found]
        except LabelError as exc:
            raise CotError(f"the label element of {event.uid!r}: {exc.message}") from None
        element = registry.fit(join_all(*labels))
        if len(set(labels)) > 1:
            notes.append(
                f"{len(labels)} differing label elements, joined: {_show(element, registry)}"
            )
    attributes = label_from_attributes(
        event.access,
        event.caveat,
        event.releasable_to,
        registry,
        unstated_releasability=None if element is None else element.releasable_to,
    )
    if element is None or attributes is None:
        label = element or attributes
    elif element.equivalent(_as_claimed(attributes, element, event.access, event.caveat)):
        label = element
    else:
        label = registry.fit(element.join(attributes))
        notes.append(
            f"the label element says {_show(element, registry)} but the attributes say "
            f"{_show(attributes, registry)}; the more restrictive {_show(label, registry)} applies"
        )
    return LabelReading(label, element, attributes, "; ".join(notes) or None)


def _as_claimed(attributes: Label, element: Label, access: str | None, caveat: str | None) -> Label:
    """The attributes' label with the element's categories where they say nothing of them: an
    absent caveat (protocol 1 cannot carry one) is no claim that there are none, unless
    `access` is a whole marking."""
    if (caveat and caveat.strip()) or "//" in (access or ""):
        return attributes
    return Label(
        attributes.policy,
        attributes.level,
        attributes.rank,
        element.restrictive,
        attributes.releasable_to,
        element.informative,
    )


def label_from_attributes(
    access: str | None,
    caveat: str | None,
    releasable_to: str | None,
    registry: SchemeRegistry,
    *,
    unstated_releasability: frozenset[str] | None = None,
) -> Label | None:
    """The label the three attributes describe, or None when `access` is absent (or
    `Undefined`) and nothing else is given; CotError when they cannot be read.

    `access` is a classification of a loaded scheme (tried in the registry's order, the first
    in which the caveats also read wins) or a whole marking (`SECRET//REL TO USA, JPN`).
    `caveat` holds categories and NOFORN, separated by spaces, `/` or commas, and may hold a
    `REL TO` list. `releasableTo` holds alpha-3 codes or groups (`FVEY`) separated by spaces or
    commas. Where several say who may read (NOFORN, REL TO, releasableTo), the nations all of
    them allow apply. When none does, `unstated_releasability` applies (`read_label` passes the
    label element's), and without it the scheme's default: the originators only for a
    classified level, unrestricted for an unclassified one.
    """
    if access is None or access.strip().casefold() in NO_ACCESS:
        if caveat or releasable_to:
            raise CotError("caveat or releasableTo without access: the classification is unknown")
        return None
    nations = _nations(releasable_to)
    try:
        if "//" in access or access.strip().startswith("("):
            return _from_marking(access, caveat, nations, registry, unstated_releasability)
        candidates = [
            (scheme, level)
            for scheme in registry.search_order()
            if (level := scheme.find_level(access)) is not None
        ]
        if not candidates:
            raise CotError(f"access {access!r} is not a classification Kyodo knows")
        errors: list[KyodoError] = []
        for scheme, level in candidates:
            try:
                return _build(
                    registry, scheme, level, caveat, nations, unstated_releasability, set(), []
                )
            except KyodoError as exc:
                errors.append(exc)
        raise errors[0]
    except CotError:
        raise
    except KyodoError as exc:
        raise CotError(f"label attributes: {exc.message}") from None


def _from_marking(
    access: str,
    caveat: str | None,
    nations: list[str] | None,
    registry: SchemeRegistry,
    unstated: frozenset[str] | None,
) -> Label:
    marked = parse_marking(access, registry)
    scheme = registry.scheme(marked.policy)
    stated = _stated_in_marking(access, scheme) and marked.releasable_to is not None
    return _build(
        registry,
        scheme,
        scheme.level(marked.level),
        caveat,
        nations,
        unstated,
        set(marked.restrictive | marked.informative),
        [set(marked.releasable_to or ())] if stated else [],
    )


def _stated_in_marking(marking: str, scheme: Scheme) -> bool:
    """Whether a marking names its releasability (REL TO or NOFORN) rather than defaulting."""
    for block in marking.strip("() ").split("//")[1:]:
        for element in block.split("/"):
            if scheme.match_rel(element.strip()) is not None or normalise_token(element) in {
                normalise_token(t) for t in scheme.noforn_tokens()
            }:
                return True
    return False


def _build(
    registry: SchemeRegistry,
    scheme: Scheme,
    level: Level,
    caveat: str | None,
    nations: list[str] | None,
    unstated: frozenset[str] | None,
    categories: set[str],
    allowed: list[set[str]],
) -> Label:
    if nations is not None:
        allowed.append(registry.expand_nations(scheme, nations))
    noforn = {normalise_token(t) for t in scheme.noforn_tokens()}
    for block in (caveat or "").split("/"):
        block = block.strip()
        if not block:
            continue
        prefix = scheme.match_rel(block)
        if prefix is not None:
            listed = _nations(block[prefix:])
            if listed is None:
                raise CotError(f"an empty REL TO list in caveat {caveat!r}")
            allowed.append(registry.expand_nations(scheme, listed))
            continue
        for item in _CAVEAT_ITEM.split(block):
            for token in _tokens(item, scheme, noforn):
                if normalise_token(token) in noforn:
                    allowed.append(set(scheme.originators))
                else:
                    categories.add(token)
    restrictive: list[str] = []
    informative: list[str] = []
    for token in categories:
        category = scheme.find_category(token)
        if category is None:
            raise CotError(f"caveat {token!r} is not a category of scheme {scheme.policy}")
        (informative if category.kind is CategoryKind.INFORMATIVE else restrictive).append(
            category.id
        )
    releasable: list[str] | None
    if allowed:
        releasable = sorted(set.intersection(*allowed))
    else:
        releasable = None if unstated is None else sorted(unstated)
    return registry.make_label(scheme.policy, level.id, restrictive, releasable, informative)


def _tokens(item: str, scheme: Scheme, noforn: set[str]) -> list[str]:
    """The categories and NOFORN in one caveat item, longest spelling first, so that
    `SDS JAPAN ONLY` reads as SDS and JAPAN ONLY; a word that names nothing is kept as it is
    (and refused by the caller)."""

    def known(text: str) -> bool:
        return normalise_token(text) in noforn or scheme.find_category(text) is not None

    words = item.split()
    found: list[str] = []
    at = 0
    while at < len(words):
        end = next((e for e in range(len(words), at, -1) if known(" ".join(words[at:e]))), at + 1)
        found.append(" ".join(words[at:end]))
        at = end
    return found


def _nations(value: str | None) -> list[str] | None:
    if value is None or not value.strip():
        return None
    codes = [code for code in _NATION_SEPARATOR.split(value.strip()) if code]
    if [code.upper() for code in codes] == [NO_NATION]:
        return []
    return codes


def _show(label: Label, registry: SchemeRegistry) -> str:
    try:
        return render_marking(label, registry)
    except KyodoError:
        return repr(label)
