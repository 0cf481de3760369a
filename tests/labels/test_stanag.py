"""STANAG 4774-style XML: the document written, round trips with JSON and markings, and the
hardened reader (no DTD, no entity expansion, no external references, a size cap)."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring

from kyodo.errors import LabelError, LabelXmlError
from kyodo.labels import (
    SchemeRegistry,
    label_from_element,
    label_from_json,
    label_from_xml,
    label_to_dict,
    label_to_element,
    label_to_xml,
    parse_marking,
    render_marking,
)
from kyodo.labels.stanag import MAX_XML_BYTES, NAMESPACE

NS = {"slab": NAMESPACE}

MARKINGS = [
    "UNCLASSIFIED",
    "UNCLASSIFIED//FOUO",
    "CONFIDENTIAL//SI//REL TO USA, GBR",
    "SECRET//REL TO USA, JPN",
    "SECRET//REL TO NONE",
    "TOP SECRET//SI/TK/HCS//ORCON/NOFORN//EXERCISE",
    "SECRET//REL TO USA, FVEY, JPN",
    "区分なし//演習",
    "秘//重要経済安保情報//日本限り",
    "極秘//特定秘密//提供先 JPN、USA",
    "NATO SECRET",
    "COSMIC TOP SECRET//ATOMAL//REL TO USA, GBR",
]


def _wrap(info: str) -> str:
    return (
        f'<slab:ConfidentialityLabel xmlns:slab="{NAMESPACE}">'
        f"<slab:ConfidentialityInformation>{info}</slab:ConfidentialityInformation>"
        "</slab:ConfidentialityLabel>"
    )


def test_document_shape(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET//SI//ORCON/REL TO JPN, USA//EXERCISE", registry)
    text = label_to_xml(label, registry)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = safe_fromstring(text.encode("utf-8"))
    assert root.tag == f"{{{NAMESPACE}}}ConfidentialityLabel"
    info = root.find("slab:ConfidentialityInformation", NS)
    assert info is not None
    assert info.findtext("slab:PolicyIdentifier", namespaces=NS) == "USA"
    assert info.findtext("slab:Classification", namespaces=NS) == "SECRET"
    categories = {
        (c.get("TagName"), c.get("Type")): [v.text for v in c.findall("slab:GenericValue", NS)]
        for c in info.findall("slab:Category", NS)
    }
    assert categories == {
        ("Restrictive Categories", "RESTRICTIVE"): ["ORCON", "SI"],
        ("Informative Categories", "INFORMATIVE"): ["EXERCISE"],
        ("Releasable To", "PERMISSIVE"): ["USA", "JPN"],  # originator first
    }


def test_unrestricted_label_has_no_permissive_category(registry: SchemeRegistry) -> None:
    element = label_to_element(parse_marking("UNCLASSIFIED", registry), registry)
    assert element.findall(".//slab:Category", NS) == []
    nobody = label_to_element(parse_marking("SECRET//REL TO NONE", registry), registry)
    (category,) = nobody.findall(".//slab:Category", NS)
    assert category.get("Type") == "PERMISSIVE"
    assert category.findall("slab:GenericValue", NS) == []


@pytest.mark.parametrize("marking", MARKINGS)
def test_xml_round_trips_with_json_and_marking(marking: str, registry: SchemeRegistry) -> None:
    label = parse_marking(marking, registry)
    xml = label_to_xml(label, registry)
    from_xml = label_from_xml(xml, registry)
    assert from_xml == label
    assert label_from_xml(xml.encode("utf-8"), registry) == label
    assert label_from_json(label_to_dict(from_xml, registry), registry) == label
    assert render_marking(from_xml, registry) == render_marking(label, registry)
    # embedded form (e.g. inside a CoT <detail>) reads back too
    assert label_from_element(label_to_element(label, registry), registry) == label


def test_reader_is_lenient_about_spelling_not_meaning(registry: SchemeRegistry) -> None:
    xml = _wrap(
        "<slab:PolicyIdentifier> jpn </slab:PolicyIdentifier>"
        "<slab:Classification>極秘</slab:Classification>"
        '<slab:Category TagName="releasable to" Type="permissive">'
        "<slab:GenericValue>usa</slab:GenericValue><slab:GenericValue>JPN</slab:GenericValue>"
        "</slab:Category>"
    )
    assert label_from_xml(xml, registry) == parse_marking("極秘//提供先 JPN、USA", registry)


def test_classified_label_without_releasability_gets_the_default(
    registry: SchemeRegistry,
) -> None:
    xml = _wrap(
        "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
        "<slab:Classification>SECRET</slab:Classification>"
    )
    assert label_from_xml(xml, registry).releasable_to == frozenset({"USA"})


# --- hostile and malformed input ------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<slab:ConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">
<slab:ConfidentialityInformation>
<slab:PolicyIdentifier>&lol9;</slab:PolicyIdentifier>
<slab:Classification>SECRET</slab:Classification>
</slab:ConfidentialityInformation>
</slab:ConfidentialityLabel>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<slab:ConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">
<slab:ConfidentialityInformation>
<slab:PolicyIdentifier>&xxe;</slab:PolicyIdentifier>
<slab:Classification>SECRET</slab:Classification>
</slab:ConfidentialityInformation>
</slab:ConfidentialityLabel>"""

# An external DTD would be fetched over the network by a careless parser.
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE slab:ConfidentialityLabel SYSTEM "http://192.0.2.1/label.dtd">
<slab:ConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"/>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://192.0.2.1/evil.dtd"> %remote;]>
<x/>"""

INTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE x [<!ELEMENT x ANY>]>
<x/>"""


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, INTERNAL_DTD],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity", "dtd"],
)
def test_any_dtd_is_refused_before_anything_is_expanded_or_fetched(
    document: str, registry: SchemeRegistry
) -> None:
    with pytest.raises(LabelXmlError, match="label XML refused: DTDForbidden"):
        label_from_xml(document, registry)
    with pytest.raises(LabelXmlError, match="refused"):
        label_from_xml(document.encode("utf-8"), registry)


def test_undeclared_entity_is_malformed(registry: SchemeRegistry) -> None:
    with pytest.raises(LabelXmlError, match="malformed: undefined entity"):
        label_from_xml(_wrap("<slab:PolicyIdentifier>&xxe;</slab:PolicyIdentifier>"), registry)


def test_oversize_document_is_refused_before_parsing(registry: SchemeRegistry) -> None:
    valid = label_to_xml(parse_marking("SECRET", registry), registry)
    padded = valid.replace(
        "<slab:ConfidentialityInformation>", "<!--" + "x" * MAX_XML_BYTES + "-->"
    )
    with pytest.raises(LabelXmlError, match=f"larger than {MAX_XML_BYTES} bytes"):
        label_from_xml(padded, registry)
    # the cap counts encoded bytes, so multi-byte text cannot slip under it
    japanese = "秘" * (MAX_XML_BYTES // 3 + 1)
    assert len(japanese) < MAX_XML_BYTES
    with pytest.raises(LabelXmlError, match="larger than"):
        label_from_xml(f"<x>{japanese}</x>", registry)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "malformed"),
        ("not xml at all", "malformed"),
        ("<a><b></a>", "malformed: mismatched tag"),
        (b"<a>\xff\xfe</a>", "malformed"),
        (
            "<ConfidentialityLabel/>",
            "expected slab:ConfidentialityLabel, found ConfidentialityLabel",
        ),
        (
            f'<slab:ConfidentialityLabel xmlns:slab="{NAMESPACE}"/>',
            "missing ConfidentialityInformation",
        ),
        (_wrap("<slab:Classification>SECRET</slab:Classification>"), "missing PolicyIdentifier"),
        (_wrap("<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"), "missing Classification"),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>  </slab:Classification>"
            ),
            "missing Classification",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>GBR</slab:PolicyIdentifier>"
                "<slab:Classification>SECRET</slab:Classification>"
            ),
            "unknown policy 'GBR'",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>GOKUHI</slab:Classification>"
            ),
            "scheme USA has no classification 'GOKUHI'",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>SECRET</slab:Classification>"
                '<slab:Category TagName="x" Type="MANDATORY"/>'
            ),
            "category type 'MANDATORY'",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>SECRET</slab:Classification>"
                '<slab:Category TagName="Sensitive" Type="PERMISSIVE"/>'
            ),
            "unsupported permissive category 'Sensitive'",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>SECRET</slab:Classification>"
                '<slab:Category TagName="Releasable To" Type="PERMISSIVE"/>'
                '<slab:Category TagName="Releasable To" Type="PERMISSIVE"/>'
            ),
            "two 'Releasable To' categories",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>SECRET</slab:Classification>"
                '<slab:Category TagName="Releasable To" Type="PERMISSIVE">'
                "<slab:GenericValue>XYZ</slab:GenericValue></slab:Category>"
            ),
            "label XML: 'XYZ' is not an ISO 3166 alpha-3 country code",
        ),
        (
            _wrap(
                "<slab:PolicyIdentifier>USA</slab:PolicyIdentifier>"
                "<slab:Classification>UNCLASSIFIED</slab:Classification>"
                '<slab:Category TagName="Restrictive Categories" Type="RESTRICTIVE">'
                "<slab:GenericValue>SI</slab:GenericValue></slab:Category>"
            ),
            "category SI is not allowed at UNCLASSIFIED",
        ),
    ],
)
def test_malformed_or_invalid_xml_says_what(
    document: str | bytes, message: str, registry: SchemeRegistry
) -> None:
    with pytest.raises(LabelXmlError) as caught:
        label_from_xml(document, registry)
    assert message in caught.value.message
    assert isinstance(caught.value, LabelError)
