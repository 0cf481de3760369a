"""The detail: kept byte for byte, fields read from it, elements removed and added in place."""

from __future__ import annotations

import pytest

from kyodo.cot import CotError, Detail

RAW = (
    "\n  <contact callsign='KESTREL'   endpoint=\"*:-1:stcp\" />\n"
    "  <__group name=\"Cyan\" role=\"Team Lead\"/><track course='359.5' speed='0'/>"
    "<remarks source='x'>Fuel &amp; water <![CDATA[<ok>]]> 燃料</remarks><!-- kept -->"
    "<marti><dest callsign='OSPREY'/><dest uid='u'/><dest callsign='HAWK'/></marti>\n"
)


def test_fields_are_read_from_the_xml() -> None:
    detail = Detail(RAW)
    assert detail.xml == RAW
    assert (detail.callsign, detail.endpoint) == ("KESTREL", "*:-1:stcp")
    assert (detail.group_name, detail.group_role) == ("Cyan", "Team Lead")
    assert (detail.course, detail.speed) == (359.5, 0.0)
    assert detail.remarks == "Fuel & water <ok> 燃料"
    assert detail.recipients == ("OSPREY", "HAWK")


@pytest.mark.parametrize(
    "track",
    [
        "<track course='361' speed='1'/>",
        "<track course='-1' speed='1'/>",
        "<track course='nan' speed='1'/>",
        "<track course='north' speed='1'/>",
    ],
)
def test_a_course_that_is_not_a_bearing_reads_as_unknown(track: str) -> None:
    detail = Detail(track)
    assert detail.course is None
    assert detail.speed == 1.0
    assert detail.xml == track  # what the sender said still passes on


def test_negative_speed_reads_as_unknown() -> None:
    assert Detail("<track course='1' speed='-3'/>").speed is None


def test_without_removes_only_those_elements() -> None:
    detail = Detail(RAW).without("__group")
    assert detail.xml == RAW.replace('<__group name="Cyan" role="Team Lead"/>', "")
    assert detail.group_name is None
    assert detail == Detail(detail.xml)
    assert detail.without("nothing") is detail


def test_appended_keeps_the_rest_as_it_was() -> None:
    detail = Detail(RAW).appended("<uid Droid='KESTREL'/>")
    assert detail.xml == RAW + "<uid Droid='KESTREL'/>"
    uid = detail.find("uid")
    assert uid is not None
    assert detail.child_xml(uid) == "<uid Droid='KESTREL'/>"
    assert detail == Detail(detail.xml)


def test_child_xml_is_the_element_as_received() -> None:
    detail = Detail(RAW)
    remarks = detail.find("remarks")
    assert remarks is not None
    assert detail.child_xml(remarks) == (
        "<remarks source='x'>Fuel &amp; water <![CDATA[<ok>]]> 燃料</remarks>"
    )
    assert [e.tag for e in detail.children()] == [
        "contact",
        "__group",
        "track",
        "remarks",
        "marti",
    ]


def test_appending_malformed_xml_is_refused() -> None:
    with pytest.raises(CotError, match="malformed"):
        Detail(RAW).appended("<open>")
    with pytest.raises(CotError, match="malformed"):
        Detail("<!DOCTYPE x><x/>")
    with pytest.raises(CotError, match="malformed"):
        Detail("</detail><detail>")  # cannot close the element it lives in


def test_build_writes_what_it_is_given() -> None:
    detail = Detail.build(
        callsign='A"B',
        group_name="Cyan",
        group_role="Team Member",
        course=12.5,
        speed=0.0,
        remarks="<hello> & bye",
        recipients=["OSPREY"],
        extra="<uid Droid='A'/>",
    )
    assert detail.callsign == 'A"B'
    assert detail.remarks == "<hello> & bye"
    assert (detail.course, detail.speed) == (12.5, 0.0)
    assert detail.recipients == ("OSPREY",)
    assert detail.find("uid") is not None
    assert Detail.build().xml == ""


def test_build_refuses_what_xml_cannot_carry() -> None:
    with pytest.raises(CotError, match="callsign"):
        Detail.build(callsign="a\x07")
    with pytest.raises(CotError):
        Detail.build(remarks="\x00")
