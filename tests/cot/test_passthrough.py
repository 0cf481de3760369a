"""Pass-through: an event received as XML goes on byte for byte, but for the label Kyodo sets."""

from __future__ import annotations

from dataclasses import replace

from kyodo.cot import parse_event, read_label, serialise_event
from kyodo.cot.labelling import label_element_xml
from kyodo.cot.passthrough import relabelled_xml
from kyodo.labels import SchemeRegistry, parse_marking

from tests.cot.samples import ATAK_SA

TIMES = (
    b'time="2024-05-01T03:04:05.6789Z" start="2024-05-01T03:04:05.6789Z"'
    b' stale="2024-05-01T03:10:05Z"'
)
# Unusual but valid: attributes in no usual order, single quotes, white space and line breaks
# in tags, numbers with trailing zeros, unknown attributes and detail elements, a comment.
ODD = (
    b'<event how=\'m-g\'\n    uid="odd-1" type="a-f-S-C-L-CC" ' + TIMES + b' qos="1-r-c"'
    b' version="2.0" access="Undefined" opex="e-EXERCISE" >\n'
    b'  <point le="9999999.0" ce="12.50" hae="9999999.0" lon="139.6917000" lat="35.6895000" />\n'
    b"  <!-- from the bridge -->\n"
    b"  <detail>\n"
    b'    <contact  callsign="ODD" endpoint="*:-1:stcp"/>\n'
    b"    <x-unknown foo='bar'><nested a=\"1\">text &amp; more &#x41;</nested></x-unknown>\n"
    b"    <remarks>on station</remarks>\n"
    b"  </detail>\n"
    b"</event>"
)


def test_only_the_label_changes(registry: SchemeRegistry) -> None:
    label = parse_marking("SECRET//REL TO USA, JPN", registry)
    out = relabelled_xml(parse_event(ODD), label, registry)
    element = label_element_xml(label, registry).encode()
    expected = (
        ODD.replace(b'access="Undefined"', b'access="SECRET"')
        .replace(b'opex="e-EXERCISE"', b'opex="e-EXERCISE" releasableTo="USA JPN"')
        .replace(b"\n  </detail>", b"\n  " + element + b"</detail>")
    )
    assert out == expected
    again = parse_event(out)
    assert read_label(again, registry).label == label
    assert again.point == parse_event(ODD).point


def test_label_attributes_are_replaced_in_place_or_removed(registry: SchemeRegistry) -> None:
    sent = (
        b'<event version="2.0" uid="x" type="a-f-G" how="m-g" ' + TIMES + b" rel_to='USA'"
        b' caveat="SI" access="SECRET" releaseableTo="USA" qos="1"><point lat="1" lon="2"/>'
        b"<detail/></event>"
    )
    out = relabelled_xml(parse_event(sent), parse_marking("UNCLASSIFIED", registry), registry)
    element = label_element_xml(parse_marking("UNCLASSIFIED", registry), registry).encode()
    assert out == (
        b'<event version="2.0" uid="x" type="a-f-G" how="m-g" ' + TIMES + b' access="UNCLASSIFIED"'
        b' qos="1"><point lat="1" lon="2"/><detail>' + element + b"</detail></event>"
    )
    label = parse_marking("SECRET//SI//REL TO USA, JPN", registry)
    out = relabelled_xml(parse_event(sent), label, registry)
    assert out is not None
    assert b"rel_to='USA'" not in out and b"releaseableTo" not in out
    assert b'releasableTo="USA JPN" caveat="SI" access="SECRET" qos="1">' in out
    assert read_label(parse_event(out), registry).label == label


def test_an_old_label_element_is_replaced_and_a_missing_detail_added(
    registry: SchemeRegistry,
) -> None:
    secret = parse_marking("SECRET//REL TO USA, JPN", registry)
    noforn = parse_marking("SECRET//NOFORN", registry)
    labelled = relabelled_xml(parse_event(ODD), secret, registry)
    assert labelled is not None
    out = relabelled_xml(parse_event(labelled), noforn, registry)
    assert out is not None and out.count(b"ConfidentialityLabel xmlns") == 1
    assert read_label(parse_event(out), registry).label == noforn
    bare = (
        b'<event version="2.0" uid="x" type="a-f-G" how="m-g" ' + TIMES + b">"
        b'<point lat="1" lon="2"/> </event>'
    )
    out = relabelled_xml(parse_event(bare), secret, registry)
    element = label_element_xml(secret, registry).encode()
    assert out == bare.replace(
        b"> </event>", b"> <detail>" + element + b"</detail></event>"
    ).replace(TIMES + b">", TIMES + b' access="SECRET" releasableTo="USA JPN">')


def test_atak_and_declaration(registry: SchemeRegistry) -> None:
    label = parse_marking("UNCLASSIFIED", registry)
    out = relabelled_xml(parse_event(ATAK_SA), label, registry)
    assert out is not None
    body = ATAK_SA[ATAK_SA.index(b"<event") :]
    element = label_element_xml(label, registry).encode()
    assert out == body.replace(b'access="Undefined"', b'access="UNCLASSIFIED"').replace(
        b"</detail>", element + b"</detail>"
    )


def test_a_changed_copy_has_no_source_and_is_written_from_its_fields(
    registry: SchemeRegistry,
) -> None:
    event = parse_event(ODD)
    assert event.source is not None
    moved = replace(event, uid="other")
    assert moved.source is None
    assert relabelled_xml(moved, parse_marking("UNCLASSIFIED", registry), registry) is None
    assert parse_event(serialise_event(event)) == event  # the source takes no part in equality


def test_an_empty_event_element_is_written_from_its_fields(registry: SchemeRegistry) -> None:
    ping = b'<event version="2.0" uid="ping" type="t-x-c-t" how="h-g-i-g-o" ' + TIMES + b"/>"
    assert (
        relabelled_xml(parse_event(ping), parse_marking("UNCLASSIFIED", registry), registry) is None
    )
