"""The one error tree of Kyodo; transports map each code to HTTP, WebSocket or CoT refusals.

KyodoError
├── LabelError                 a label that cannot exist (code LABEL_INVALID)
│   ├── MarkingError           a marking string that does not parse, with its position
│   ├── NoEquivalentError      a label shown in a scheme that cannot express it
│   └── LabelXmlError          a STANAG 4774-style XML label that is unsafe or malformed
├── SchemeError                a marking scheme file that is inconsistent (code SCHEME_INVALID)
├── GuardRulesError            a spillage guard rules file that is malformed
├── InvalidInput               a request that is well-formed but wrong (bad reference, bad value)
│   └── CotError               a CoT event or stream that is refused (kyodo.cot)
├── NotFound                   no such object, or one the subject may not know exists
├── Conflict                   the object exists already, or changed meanwhile
├── Unauthenticated            no valid session, token or password
├── PermissionDenied           the policy said no; carries the reasons
├── RateLimited                too many attempts; carries the seconds to wait
├── Unavailable                a backing service (database, bus) cannot be reached
└── GuardRefused               the spillage guard found the text above its label
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable codes; transports translate these, never the message text."""

    LABEL_INVALID = "label_invalid"
    MARKING_INVALID = "marking_invalid"
    NO_EQUIVALENT = "no_equivalent"
    LABEL_XML_INVALID = "label_xml_invalid"
    SCHEME_INVALID = "scheme_invalid"
    GUARD_RULES_INVALID = "guard_rules_invalid"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    GUARD_REFUSED = "guard_refused"


class KyodoError(Exception):
    """Root of every error Kyodo raises on purpose."""

    code: ErrorCode = ErrorCode.LABEL_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LabelError(KyodoError):
    """A label that is not valid in its scheme."""

    code = ErrorCode.LABEL_INVALID


class MarkingError(LabelError):
    """A marking string that does not parse; `position` is the 0-based character offset."""

    code = ErrorCode.MARKING_INVALID

    def __init__(self, message: str, *, text: str, position: int) -> None:
        super().__init__(f"{message} at position {position} in {text!r}")
        self.reason = message
        self.text = text
        self.position = position


class NoEquivalentError(LabelError):
    """The target scheme has no equivalent for part of the label."""

    code = ErrorCode.NO_EQUIVALENT


class LabelXmlError(LabelError):
    """A STANAG 4774-style XML label that is malformed, unsafe or too large."""

    code = ErrorCode.LABEL_XML_INVALID


class SchemeError(KyodoError):
    """A marking scheme definition that is inconsistent."""

    code = ErrorCode.SCHEME_INVALID


class GuardRulesError(KyodoError):
    """A spillage guard rules file (or mapping) that is malformed; the message names the rule."""

    code = ErrorCode.GUARD_RULES_INVALID


class InvalidInput(KyodoError):
    """Input that parses but cannot be accepted: an unknown reference, a value out of range."""

    code = ErrorCode.INVALID_INPUT


class NotFound(KyodoError):
    """No such object, or one the subject may not know exists (never a 403 that leaks existence)."""

    code = ErrorCode.NOT_FOUND


class Conflict(KyodoError):
    """The object exists already or the change conflicts with stored state."""

    code = ErrorCode.CONFLICT


class Unauthenticated(KyodoError):
    """No valid credentials; the message never says which part was wrong."""

    code = ErrorCode.UNAUTHENTICATED


class PermissionDenied(KyodoError):
    """The policy refused; `reasons` name the properties that failed."""

    code = ErrorCode.PERMISSION_DENIED

    def __init__(
        self,
        message: str,
        reasons: tuple[str, ...] = (),
        codes: tuple[dict[str, object], ...] = (),
    ) -> None:
        super().__init__(message if not reasons else f"{message}: {'; '.join(reasons)}")
        self.reasons = reasons
        # The reasons as catalogue codes with values ({"code", "params"}), for people.
        self.codes = codes


class RateLimited(KyodoError):
    """Too many attempts; retry after `retry_after` seconds."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(KyodoError):
    """A backing service cannot be reached; the request may succeed later."""

    code = ErrorCode.UNAVAILABLE


class GuardRefused(KyodoError):
    """The spillage guard judged the text more sensitive than its label; `findings` say why."""

    code = ErrorCode.GUARD_REFUSED

    def __init__(
        self,
        message: str,
        findings: tuple[dict[str, object], ...],
        suggested: str | None,
        overridable: bool,
        *,
        reason: str = "",
        params: dict[str, object] | None = None,
        needed: str | None = None,
        override_reason: str | None = None,
        override_params: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.findings = findings
        # The label to raise the text to in its net; None where the net cannot hold it.
        self.suggested = suggested
        self.overridable = overridable
        # Why, for people: a catalogue key ("guard.above_label"…) and its values, worded by
        # each transport in its reader's language; `message` is the English for the API.
        self.reason = reason
        self.params = params or {}
        self.needed = needed  # the label the text needs, wherever it may go
        # Why a justification given with the post did not override (too short, not allowed).
        self.override_reason = override_reason
        self.override_params = override_params or {}
