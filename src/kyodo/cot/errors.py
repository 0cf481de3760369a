"""The CoT codec's error: an event, frame or message refused, with the reason in plain words."""

from __future__ import annotations

from kyodo.errors import InvalidInput


class CotError(InvalidInput):
    """A CoT event, TAK frame or TAK message that is malformed, unsafe or invalid.

    It sits under `InvalidInput` (code `invalid_input`) in the `KyodoError` tree; the transport
    turns it into a refusal logged with the peer, never into a crash.
    """
