"""Cursor-on-Target codec: events, hardened XML, labels in CoT, stream splitting, TAK protocol 1."""

from kyodo.cot.auth import Credentials, parse_auth, serialise_auth
from kyodo.cot.chat import GeoChat
from kyodo.cot.detail import Detail
from kyodo.cot.errors import CotError
from kyodo.cot.event import UNKNOWN, Event, Point, format_time, parse_time
from kyodo.cot.framing import FrameDecoder, TakEventReader, frame_mesh, frame_stream, unframe_mesh
from kyodo.cot.labelling import (
    LabelAttributes,
    LabelReading,
    apply_label,
    label_attributes,
    label_from_attributes,
    read_label,
)
from kyodo.cot.negotiation import (
    offered_versions,
    protocol_offer,
    protocol_request,
    protocol_response,
    requested_version,
    response_status,
)
from kyodo.cot.refusal import Batch, Refusal
from kyodo.cot.stream import EventSplitter, XmlEventReader
from kyodo.cot.tak import event_to_message, message_to_event
from kyodo.cot.xml import parse_event, serialise_event

__all__ = [
    "UNKNOWN",
    "Batch",
    "CotError",
    "Credentials",
    "Detail",
    "Event",
    "EventSplitter",
    "FrameDecoder",
    "GeoChat",
    "LabelAttributes",
    "LabelReading",
    "Point",
    "Refusal",
    "TakEventReader",
    "XmlEventReader",
    "apply_label",
    "event_to_message",
    "format_time",
    "frame_mesh",
    "frame_stream",
    "label_attributes",
    "label_from_attributes",
    "message_to_event",
    "offered_versions",
    "parse_auth",
    "parse_event",
    "parse_time",
    "protocol_offer",
    "protocol_request",
    "protocol_response",
    "read_label",
    "requested_version",
    "response_status",
    "serialise_auth",
    "serialise_event",
    "unframe_mesh",
]
