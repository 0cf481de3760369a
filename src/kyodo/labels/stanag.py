"""STANAG 4774-style confidentiality label XML, written and read (hardened against hostile XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # builds and serialises only; parsing uses defusedxml
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from kyodo.errors import LabelError, LabelXmlError
from kyodo.labels.codec import nation_list

if TYPE_CHECKING:
    from kyodo.labels.label import Label
    from kyodo.labels.registry import SchemeRegistry

NAMESPACE = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
MAX_XML_BYTES = 64 * 1024
RELEASABLE_TO = "Releasable To"
_TAGS = {"RESTRICTIVE": "Restrictive Categories", "INFORMATIVE": "Informative Categories"}


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def label_to_element(label: Label, registry: SchemeRegistry) -> ET.Element:
    """The label as a `ConfidentialityLabel` element (to embed, e.g. in a CoT `<detail>`)."""
    root = ET.Element(_q("ConfidentialityLabel"))
    info = ET.SubElement(root, _q("ConfidentialityInformation"))
    ET.SubElement(info, _q("PolicyIdentifier")).text = label.policy
    ET.SubElement(info, _q("Classification")).text = label.level
    for kind, values in (("RESTRICTIVE", label.restrictive), ("INFORMATIVE", label.informative)):
        if values:
            _category(info, _TAGS[kind], kind, sorted(values))
    if label.releasable_to is not None:
        _category(
            info,
            RELEASABLE_TO,
            "PERMISSIVE",
            nation_list(label.releasable_to, registry, label.policy),
        )
    return root


def _category(parent: ET.Element, tag: str, kind: str, values: list[str]) -> None:
    element = ET.SubElement(parent, _q("Category"), {"TagName": tag, "Type": kind})
    for value in values:
        ET.SubElement(element, _q("GenericValue")).text = value


def label_to_xml(label: Label, registry: SchemeRegistry) -> str:
    """The label as a standalone XML document (UTF-8 text, with declaration)."""
    ET.register_namespace("slab", NAMESPACE)
    element = label_to_element(label, registry)
    ET.indent(element)
    body = ET.tostring(element, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def label_from_xml(data: str | bytes, registry: SchemeRegistry) -> Label:
    """Parse a label document: no DTD, no entities, no external references, at most 64 KiB."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise LabelXmlError(f"label XML is larger than {MAX_XML_BYTES} bytes")
    try:
        root = safe_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise LabelXmlError(f"label XML refused: {exc}") from None
    except ET.ParseError as exc:
        raise LabelXmlError(f"label XML is malformed: {exc}") from None
    return label_from_element(root, registry)


def label_from_element(root: ET.Element, registry: SchemeRegistry) -> Label:
    """A label from a parsed `ConfidentialityLabel` element."""
    if root.tag != _q("ConfidentialityLabel"):
        raise LabelXmlError(f"expected slab:ConfidentialityLabel, found {root.tag}")
    info = root.find(_q("ConfidentialityInformation"))
    if info is None:
        raise LabelXmlError("missing ConfidentialityInformation")
    policy = _text(info, "PolicyIdentifier")
    classification = _text(info, "Classification")
    restrictive: list[str] = []
    informative: list[str] = []
    releasable: list[str] | None = None
    for category in info.findall(_q("Category")):
        kind = (category.get("Type") or "").upper()
        values = [(v.text or "").strip() for v in category.findall(_q("GenericValue"))]
        if kind == "RESTRICTIVE":
            restrictive.extend(values)
        elif kind == "INFORMATIVE":
            informative.extend(values)
        elif kind == "PERMISSIVE":
            if (category.get("TagName") or "").casefold() != RELEASABLE_TO.casefold():
                raise LabelXmlError(
                    f"unsupported permissive category {category.get('TagName')!r}; "
                    f"only {RELEASABLE_TO!r} is known"
                )
            if releasable is not None:
                raise LabelXmlError(f"two {RELEASABLE_TO!r} categories")
            releasable = values
        else:
            raise LabelXmlError(f"category type {kind!r} is not PERMISSIVE/RESTRICTIVE/INFORMATIVE")
    try:
        return registry.make_label(policy, classification, restrictive, releasable, informative)
    except LabelXmlError:
        raise
    except LabelError as exc:
        raise LabelXmlError(f"label XML: {exc.message}") from None


def _text(parent: ET.Element, name: str) -> str:
    element = parent.find(_q(name))
    if element is None or not (element.text or "").strip():
        raise LabelXmlError(f"missing {name}")
    return (element.text or "").strip()
