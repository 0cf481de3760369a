"""UTF-16 CoT as TAK Server treats it: its stream reader decodes UTF-8 and parses from `<event`
(StreamingCotProtocol), so an XML declaration naming UTF-16 in front of UTF-8 bytes (what .NET
writers such as WinTAK's produce) is no obstacle, while an event really encoded in UTF-16 is
never found. Kyodo does the same, and refuses each UTF-16 event by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from kyodo.cot import XmlEventReader
from kyodo.cot.stream import UTF16_REFUSAL

CAPTURE = Path(__file__).parent / "captures" / "node-cot_creator-0.cot"
BODY = CAPTURE.read_text()[CAPTURE.read_text().index("<event") :]
UID = "a471cec4-4d18-41b4-a1c5-d79e52b5a678"


@pytest.mark.parametrize(
    "prefix",
    [
        b'<?xml version="1.0" encoding="utf-16"?>',  # .NET's XmlWriter over a string
        b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-16' standalone='yes'?>\r\n",
    ],
)
def test_utf8_bytes_under_a_utf16_declaration_are_read(prefix: bytes) -> None:
    batch = XmlEventReader().feed(prefix + BODY.encode())
    assert [e.uid for e in batch.items] == [UID] and not batch.refusals


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chunk", [1, 7, 100_000])
def test_each_utf16_event_is_refused_by_name_however_the_reads_split(
    encoding: str, chunk: int
) -> None:
    one = ('<?xml version="1.0" encoding="utf-16"?>' + BODY).encode(encoding)
    data = one + one + BODY.encode()  # two in UTF-16, then one in UTF-8
    reader = XmlEventReader()
    uids, reasons = [], []
    for at in range(0, len(data), chunk):
        batch = reader.feed(data[at : at + chunk])
        uids += [e.uid for e in batch.items]
        reasons += [r.reason for r in batch.refusals]
    assert reasons == [UTF16_REFUSAL, UTF16_REFUSAL]
    assert uids == [UID]  # the stream carries on with the UTF-8 event
