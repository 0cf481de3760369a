"""Labels in CoT: attributes and the 4774 element written, read back, and reconciled."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given

from kyodo.cot import (
    CotError,
    Detail,
    Event,
    apply_label,
    event_to_message,
    label_attributes,
    label_from_attributes,
    message_to_event,
    parse_event,
    read_label,
    serialise_event,
)
from kyodo.cot.labelling import LABEL_TAG, label_element_xml
from kyodo.labels import Label, SchemeRegistry, label_to_xml, parse_marking, render_marking

from tests.cot.samples import ATAK_SA, make_event
from tests.labels.strategies import REGISTRY, labels


def _label(marking: str, registry: SchemeRegistry) -> Label:
    return parse_marking(marking, registry)


def _attributes(
    registry: SchemeRegistry, access: str | None, caveat: str | None = None, rel: str | None = None
) -> Label | None:
    return label_from_attributes(access, caveat, rel, registry)


@pytest.mark.parametrize(
    ("marking", "access", "caveat", "rel"),
    [
        ("UNCLASSIFIED", "UNCLASSIFIED", None, None),
        ("UNCLASSIFIED//FOUO", "UNCLASSIFIED", "FOUO", None),
        ("SECRET//REL TO USA, JPN", "SECRET", None, "USA JPN"),
        ("SECRET//NOFORN", "SECRET", None, "USA"),
        ("TOP SECRET//SI/TK//NOFORN", "TOP SECRET", "SI TK", "USA"),
        ("極秘//REL TO USA, JPN", "GOKUHI", None, "JPN USA"),
        ("極秘//特定秘密//日本限り", "GOKUHI", "SDS", "JPN"),
        ("SECRET//REL TO NONE", "SECRET", None, "NONE"),
    ],
)
def test_the_attributes_of_a_label(
    registry: SchemeRegistry, marking: str, access: str, caveat: str | None, rel: str | None
) -> None:
    written = label_attributes(_label(marking, registry), registry)
    assert (written.access, written.caveat, written.releasable_to) == (access, caveat, rel)


@given(labels())
def test_attributes_read_back_as_the_same_security_label(label: Label) -> None:
    written = label_attributes(label, REGISTRY)
    read = label_from_attributes(written.access, written.caveat, written.releasable_to, REGISTRY)
    assert read is not None
    assert read.equivalent(label)
    assert read.informative == label.informative


@given(labels())
def test_an_applied_label_is_read_back_exactly(label: Label) -> None:
    event = apply_label(make_event(), label, REGISTRY)
    reading = read_label(parse_event(serialise_event(event)), REGISTRY)
    assert reading.label == label
    assert reading.element == label
    assert reading.disagreement is None


@pytest.mark.parametrize(
    ("access", "caveat", "rel", "marking"),
    [
        ("SECRET", None, None, "SECRET//NOFORN"),  # the US default: originators only
        ("Secret", "noforn", None, "SECRET//NOFORN"),
        ("S", None, "USA, JPN", "SECRET//REL TO USA, JPN"),
        ("SECRET", None, "FVEY", "SECRET//REL TO USA, FVEY"),
        ("SECRET", "REL TO USA, JPN, GBR", "USA,JPN", "SECRET//REL TO USA, JPN"),
        ("SECRET", "NOFORN", "USA JPN", "SECRET//NOFORN"),  # both apply: the narrower
        ("CONFIDENTIAL", "SI/ORCON", "USA", "CONFIDENTIAL//SI//ORCON/NOFORN"),
        ("TOP SECRET", "SI, TK", "USA", "TOP SECRET//SI/TK//NOFORN"),
        ("GOKUHI", "TOKUTEI HIMITSU", "JPN", "極秘//特定秘密//日本限り"),
        ("GOKUHI", "SDS JAPAN ONLY", None, "極秘//特定秘密//日本限り"),
        ("極秘", None, "JPN USA", "極秘//REL TO USA, JPN"),
        ("NATO SECRET", None, None, "NATO SECRET"),
        ("SECRET//REL TO USA, JPN", None, None, "SECRET//REL TO USA, JPN"),
        ("SECRET//REL TO USA, JPN", "SI", "USA", "SECRET//SI//NOFORN"),
        ("UNCLASSIFIED", None, None, "UNCLASSIFIED"),
        ("UNCLASSIFIED", None, "USA JPN", "UNCLASSIFIED//REL TO USA, JPN"),
    ],
)
def test_attributes_other_systems_write(
    registry: SchemeRegistry, access: str, caveat: str | None, rel: str | None, marking: str
) -> None:
    assert _attributes(registry, access, caveat, rel) == _label(marking, registry)


@pytest.mark.parametrize("access", [None, "", "Undefined", "UNDEFINED", " undefined "])
def test_no_access_is_no_label(registry: SchemeRegistry, access: str | None) -> None:
    assert _attributes(registry, access) is None
    assert read_label(make_event(access=access), registry).label is None


@pytest.mark.parametrize(
    ("access", "caveat", "rel", "reason"),
    [
        (None, "NOFORN", None, "without access"),
        ("Undefined", None, "USA", "without access"),
        ("RESTRICTED-ISH", None, None, "not a classification"),
        ("SECRET", "BOGUS", None, "BOGUS"),
        ("SECRET", None, "USA XYZ", "'XYZ' is not an ISO 3166"),
        ("UNCLASSIFIED", "SI", None, "SI is not allowed at UNCLASSIFIED"),
        ("SECRET//BOGUS", None, None, "unknown marking 'BOGUS'"),
        ("SECRET", "REL TO", None, "empty REL TO list"),
    ],
)
def test_attributes_that_are_not_a_label_are_refused(
    registry: SchemeRegistry, access: str | None, caveat: str | None, rel: str | None, reason: str
) -> None:
    with pytest.raises(CotError, match=reason):
        _attributes(registry, access, caveat, rel)


def test_pytak_style_rel_to_is_read(registry: SchemeRegistry) -> None:
    data = ATAK_SA.replace(b'access="Undefined"', b'access="SECRET" rel_to="USA,JPN"')
    reading = read_label(parse_event(data), registry)
    assert reading.label == _label("SECRET//REL TO USA, JPN", registry)
    assert reading.element is None


def test_apply_label_adds_and_changes_nothing_else(registry: SchemeRegistry) -> None:
    event = parse_event(ATAK_SA)
    label = _label("SECRET//REL TO USA, JPN", registry)
    labelled = apply_label(event, label, registry)
    assert (labelled.access, labelled.caveat, labelled.releasable_to) == (
        "SECRET",
        None,
        "USA JPN",
    )
    assert labelled.detail.xml == event.detail.xml + label_element_xml(label, registry)
    unchanged = ("uid", "type", "how", "time", "start", "stale", "point", "version", "extra")
    assert all(getattr(labelled, f) == getattr(event, f) for f in unchanged)


def test_apply_label_replaces_the_label_there_was(registry: SchemeRegistry) -> None:
    first = apply_label(parse_event(ATAK_SA), _label("TOP SECRET//NOFORN", registry), registry)
    second = apply_label(first, _label("UNCLASSIFIED", registry), registry)
    assert len(second.detail.findall(LABEL_TAG)) == 1
    assert second.detail.xml.startswith(parse_event(ATAK_SA).detail.xml)
    assert (second.access, second.caveat, second.releasable_to) == ("UNCLASSIFIED", None, None)
    assert read_label(second, registry).label == _label("UNCLASSIFIED", registry)


def test_the_element_is_the_label_cores_4774_xml(registry: SchemeRegistry) -> None:
    label = _label("極秘//特定秘密//REL TO USA, JPN", registry)
    xml = label_element_xml(label, registry)
    assert xml.startswith(
        '<ConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">'
    )
    # The element another system writes (prefixed, with its own declaration) reads the same.
    prefixed = label_to_xml(label, registry).split("\n", 1)[1]
    event = make_event(detail=Detail(prefixed))
    assert read_label(event, registry).label == label


def test_disagreement_takes_the_more_restrictive_and_says_so(registry: SchemeRegistry) -> None:
    labelled = apply_label(make_event(), _label("SECRET//REL TO USA, JPN", registry), registry)
    tampered = dataclasses.replace(labelled, releasable_to="USA", caveat="SI")
    reading = read_label(tampered, registry)
    assert reading.label == _label("SECRET//SI//NOFORN", registry)
    assert reading.element == _label("SECRET//REL TO USA, JPN", registry)
    assert reading.attributes == _label("SECRET//SI//NOFORN", registry)
    assert reading.disagreement == (
        "the label element says SECRET//REL TO USA, JPN but the attributes say "
        "SECRET//SI//NOFORN; the more restrictive SECRET//SI//NOFORN applies"
    )


def test_a_higher_access_raises_the_level(registry: SchemeRegistry) -> None:
    labelled = apply_label(
        make_event(), _label("CONFIDENTIAL//REL TO USA, JPN", registry), registry
    )
    reading = read_label(dataclasses.replace(labelled, access="TOP SECRET"), registry)
    assert reading.label == _label("TOP SECRET//REL TO USA, JPN", registry)
    assert reading.disagreement is not None


def test_unstated_attributes_make_no_claim_beside_the_element(registry: SchemeRegistry) -> None:
    labelled = apply_label(make_event(), _label("SECRET//SI//REL TO USA, JPN", registry), registry)
    # What protocol 1 carries: access only (no caveat, no releasableTo field in takproto).
    bare = dataclasses.replace(labelled, caveat=None, releasable_to=None)
    reading = read_label(bare, registry)
    assert reading.label == _label("SECRET//SI//REL TO USA, JPN", registry)
    assert reading.disagreement is None


def test_categories_left_out_of_a_marking_in_access_are_a_claim(registry: SchemeRegistry) -> None:
    labelled = apply_label(make_event(), _label("SECRET//SI//REL TO USA, JPN", registry), registry)
    tampered = dataclasses.replace(
        labelled, access="SECRET//REL TO USA, JPN", caveat=None, releasable_to=None
    )
    reading = read_label(tampered, registry)
    assert reading.label == _label("SECRET//SI//REL TO USA, JPN", registry)
    assert reading.disagreement is not None


def test_a_label_in_another_scheme_that_means_the_same_is_no_disagreement(
    registry: SchemeRegistry,
) -> None:
    labelled = apply_label(make_event(), _label("極秘//REL TO USA, JPN", registry), registry)
    reading = read_label(dataclasses.replace(labelled, access="SECRET"), registry)
    assert reading.label == _label("極秘//REL TO USA, JPN", registry)
    assert reading.attributes is not None
    assert render_marking(reading.attributes, registry) == "SECRET//REL TO USA, JPN"
    assert reading.disagreement is None


def test_differing_label_elements_are_joined_and_reported(registry: SchemeRegistry) -> None:
    one = label_element_xml(_label("SECRET//REL TO USA, JPN, GBR", registry), registry)
    two = label_element_xml(_label("CONFIDENTIAL//REL TO USA, JPN", registry), registry)
    reading = read_label(make_event(detail=Detail(one + two)), registry)
    assert reading.label == _label("SECRET//REL TO USA, JPN", registry)
    assert reading.disagreement == "2 differing label elements, joined: SECRET//REL TO USA, JPN"


def test_a_broken_label_element_is_refused(registry: SchemeRegistry) -> None:
    broken = (
        '<ConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">'
        "<ConfidentialityInformation><PolicyIdentifier>USA</PolicyIdentifier>"
        "<Classification>SUPER SECRET</Classification></ConfidentialityInformation>"
        "</ConfidentialityLabel>"
    )
    with pytest.raises(CotError, match=r"the label element of 'TEST-1'.*SUPER SECRET"):
        read_label(make_event(detail=Detail(broken)), registry)


def test_a_label_survives_tak_protocol_1(registry: SchemeRegistry) -> None:
    label = _label("TOP SECRET//SI/TK//REL TO USA, JPN", registry)
    event: Event = apply_label(parse_event(ATAK_SA), label, registry)
    back = message_to_event(event_to_message(event))
    assert back.access == "TOP SECRET"
    assert (back.caveat, back.releasable_to) == (None, None)  # no protobuf field for these
    reading = read_label(back, registry)
    assert reading.label == label
    assert reading.disagreement is None
