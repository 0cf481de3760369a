"""JSON form of a label (the API's), to and from plain dictionaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from kyodo.errors import LabelError
from kyodo.labels.marking import parse_marking, render_marking

if TYPE_CHECKING:
    from kyodo.labels.label import Label
    from kyodo.labels.registry import SchemeRegistry


# A busy server writes the same few labels thousands of times a second (every message it
# sends): their JSON forms are kept per registry, a bounded number of them.
MAX_CACHED_FORMS = 4096
_forms: WeakKeyDictionary[SchemeRegistry, dict[Label, dict[str, Any]]] = WeakKeyDictionary()


def label_to_dict(label: Label, registry: SchemeRegistry) -> dict[str, Any]:
    """The label as a JSON object, with its canonical banner and portion markings."""
    forms = _forms.get(registry)
    if forms is None:
        forms = _forms.setdefault(registry, {})
    form = forms.get(label)
    if form is None:
        form = _label_to_dict(label, registry)
        if len(forms) >= MAX_CACHED_FORMS:
            forms.clear()
        forms[label] = form
    # A copy: the caller may change what it is given.
    return {k: list(v) if isinstance(v, list) else v for k, v in form.items()}


def _label_to_dict(label: Label, registry: SchemeRegistry) -> dict[str, Any]:
    rel = label.releasable_to
    return {
        "policy": label.policy,
        "classification": label.level,
        "level": label.rank,
        "restrictive": sorted(label.restrictive),
        "releasable_to": None if rel is None else nation_list(rel, registry, label.policy),
        "informative": sorted(label.informative),
        "marking": render_marking(label, registry),
        "portion": render_marking(label, registry, portion=True),
    }


def nation_list(rel: frozenset[str], registry: SchemeRegistry, policy: str) -> list[str]:
    """Nations only (groups expanded), originator first, so that clients never need the groups."""
    scheme = registry.scheme(policy)
    first = [scheme.nation] if scheme.nation in rel else []
    return first + sorted(rel - set(first))


def label_from_json(value: object, registry: SchemeRegistry) -> Label:
    """A label from its JSON object or from a marking string; LabelError says what is wrong."""
    if isinstance(value, str):
        return parse_marking(value, registry)
    if not isinstance(value, Mapping):
        raise LabelError("a label is a JSON object or a marking string")
    unknown = set(value) - {
        "policy",
        "classification",
        "level",
        "restrictive",
        "releasable_to",
        "informative",
        "marking",
        "portion",
    }
    if unknown:
        raise LabelError(f"unknown label field(s): {', '.join(sorted(unknown))}")
    if "classification" not in value:
        if "marking" in value and isinstance(value["marking"], str):
            return parse_marking(value["marking"], registry, _opt_str(value, "policy"))
        raise LabelError("a label object needs 'classification' (or 'marking')")
    policy = _opt_str(value, "policy") or registry.default_policy
    rel = value.get("releasable_to")
    if rel is not None and not _str_list(rel):
        raise LabelError("'releasable_to' must be a list of country codes or null")
    for key in ("restrictive", "informative"):
        if key in value and not _str_list(value[key]):
            raise LabelError(f"'{key}' must be a list of strings")
    label = registry.make_label(
        policy,
        str(value["classification"]),
        value.get("restrictive", ()),
        rel,
        value.get("informative", ()),
    )
    if "level" in value and value["level"] != label.rank:
        raise LabelError(
            f"'level' {value['level']!r} does not match {label.level} (level {label.rank})"
        )
    if "marking" in value:
        # A client may send back the object it was given; a marking edited apart from the
        # fields must not be silently dropped, since a reader trusts the marking they see.
        marking = value["marking"]
        if not isinstance(marking, str):
            raise LabelError("'marking' must be a string")
        if parse_marking(marking, registry, policy) != label:
            raise LabelError(
                f"'marking' {marking!r} does not match the fields "
                f"({render_marking(label, registry)})"
            )
    return label


def _opt_str(value: Mapping[str, Any], key: str) -> str | None:
    found = value.get(key)
    if found is None:
        return None
    if not isinstance(found, str):
        raise LabelError(f"'{key}' must be a string")
    return found


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
