"""How the action pages say things: field, kind, state and step names in the reader's language,
dates in Zulu and JST, field values as text, and the service's refusal reasons translated."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from kyodo.domain.actions import parse_time
from kyodo.web.i18n import N_, translations

if TYPE_CHECKING:
    from collections.abc import Callable

    from kyodo.domain.actions import FieldValue

JST = timezone(timedelta(hours=9), "JST")
DATE_FIELDS = frozenset({"suspense", "ltiov", "required_delivery_date"})
WEEKDAYS_JA = "月火水木金土日"

ISO_IN_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")
ACTION_TYPES = {
    "information": N_("information"),
    "action": N_("action"),
    "coordinate": N_("coordinate"),
    "reply_for_signature": N_("reply for signature"),
}
KINDS = {
    "tasker": N_("Tasker"),
    "rfi": N_("Request for information"),
    "support_request": N_("Request for support"),
    "liaison_request": N_("Liaison request"),
    "facility_access": N_("Facility access request"),
}
FIELDS = {
    "title": N_("Title"),
    "suspense": N_("Suspense"),
    "subject": N_("Subject"),
    "tasking_authority": N_("Tasking authority"),
    "action_type": N_("Action type"),
    "sub_suspenses": N_("Sub-suspenses"),
    "extension_reason": N_("Extension reason"),
    "extension_approver": N_("Extension approver"),
    "response": N_("Response"),
    "closing_authority": N_("Closing authority"),
    "question": N_("Question"),
    "decision_supported": N_("Decision supported"),
    "ltiov": N_("LTIOV (latest time information is of value)"),
    "answer_ceiling": N_("Answer ceiling"),
    "answer_releasability": N_("Answer releasability"),
    "answer": N_("Answer"),
    "satisfaction": N_("Satisfaction"),
    "capability": N_("Capability"),
    "quantity": N_("Quantity"),
    "location": N_("Location"),
    "required_delivery_date": N_("Required delivery date"),
    "duration": N_("Duration"),
    "justification": N_("Justification"),
    "risk_if_not_sourced": N_("Risk if not sourced"),
    "supported_command": N_("Supported command"),
    "supporting_command": N_("Supporting command"),
    "sourcing_solution": N_("Sourcing solution"),
    "people": N_("People"),
    "dates": N_("Dates"),
    "place": N_("Place"),
    "purpose": N_("Purpose"),
    "host": N_("Host"),
    "requesting_unit": N_("Requesting unit"),
    "facility": N_("Facility"),
    "facility_manager": N_("Facility owner/manager"),
    "legal_basis": N_("Legal basis"),
    "personnel": N_("Personnel"),
    "vehicles_weapon_systems": N_("Vehicles and weapon systems"),
    "activities": N_("Activities"),
    "safety_environment": N_("Safety and environment"),
    "jc_reference": N_("Joint Committee reference"),
    "host_unit_concurrence": N_("Host-unit concurrence"),
    "local_consent_status": N_("Local notification/consent"),
    "public_affairs_line": N_("Public-affairs line"),
    "approval_conditions": N_("Approval conditions"),
}
SHORT = {"suspense": N_("Suspense"), "ltiov": N_("LTIOV")}
STATES = {
    "DRAFT": N_("Draft"),
    "ISSUED": N_("Issued"),
    "ACKNOWLEDGED": N_("Acknowledged"),
    "IN_WORK": N_("In work"),
    "IN_COORDINATION": N_("In coordination"),
    "READY_FOR_SIGNATURE": N_("Ready for signature"),
    "SUBMITTED": N_("Submitted"),
    "CLOSED": N_("Closed"),
    "RETURNED": N_("Returned"),
    "CANCELLED": N_("Cancelled"),
    "EXTENSION_REQUESTED": N_("Extension requested"),
    "ACCEPTED": N_("Accepted"),
    "REJECTED": N_("Rejected"),
    "ANSWERED": N_("Answered"),
    "SATISFIED": N_("Satisfied"),
    "NOT_SATISFIED": N_("Not satisfied"),
    "VALIDATED": N_("Validated"),
    "SOURCING": N_("Sourcing"),
    "APPROVED": N_("Approved"),
    "EXECUTING": N_("Executing"),
    "DENIED": N_("Denied"),
    "HOST_REVIEW": N_("Host review"),
    "COMPLETED": N_("Completed"),
    "US_STAFFED": N_("US staffed"),
    "SUBMITTED_BILATERAL": N_("Submitted bilaterally"),
    "JP_STAFFED": N_("JP staffed"),
    "JC_AGENDA": N_("On the Joint Committee agenda"),
    "JC_AGREED": N_("Agreed in the Joint Committee"),
    "LOCAL_COORDINATION": N_("Local coordination"),
    "IN_USE": N_("In use"),
    "WITHDRAWN": N_("Withdrawn"),
    "MODIFIED": N_("Modified"),
}
STEPS = {
    "issue": N_("Issue"),
    "acknowledge": N_("Acknowledge"),
    "start_work": N_("Start work"),
    "coordinate": N_("Send for coordination"),
    "ready_for_signature": N_("Ready for signature"),
    "submit": N_("Submit"),
    "close": N_("Close"),
    "return": N_("Return"),
    "rework": N_("Rework"),
    "request_extension": N_("Request extension"),
    "grant_extension": N_("Grant extension"),
    "deny_extension": N_("Deny extension"),
    "cancel": N_("Cancel"),
    "accept": N_("Accept"),
    "reject": N_("Reject"),
    "answer": N_("Answer"),
    "satisfied": N_("Satisfied"),
    "not_satisfied": N_("Not satisfied"),
    "reopen": N_("Reopen"),
    "validate": N_("Validate"),
    "source": N_("Source"),
    "approve": N_("Approve"),
    "execute": N_("Execute"),
    "resubmit": N_("Resubmit"),
    "deny": N_("Deny"),
    "review": N_("Review"),
    "complete": N_("Complete"),
    "staff_us": N_("US staffing done"),
    "submit_bilateral": N_("Submit bilaterally"),
    "staff_jp": N_("JP staffing done"),
    "to_joint_committee": N_("Put on the Joint Committee agenda"),
    "jc_agree": N_("Joint Committee agreed"),
    "local_coordination": N_("Start local coordination"),
    "start_use": N_("Start use"),
    "withdraw": N_("Withdraw"),
    "modify": N_("Modify"),
}
WORDS = {
    "routine": N_("routine"),
    "priority": N_("priority"),
    "immediate": N_("immediate"),
    "critical": N_("critical"),
    "major": N_("major"),
    "substantive": N_("substantive"),
    "administrative": N_("administrative"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "concur": N_("concur"),
    "concur_with_comment": N_("concur with comment"),
    "non_concur": N_("non-concur"),
    "open": N_("open"),
    "resolved": N_("resolved"),
    "escalated": N_("escalated"),
    "working": N_("working level"),
    "bilateral_ops": N_("bilateral operations coordination"),
    "joint_committee": N_("Joint Committee"),
}
PARTIES = {"owner": N_("owner"), "opr": N_("OPR"), "approver": N_("approver"), "ocr": N_("OCR")}
# The service's reasons are English sentences; the ones a page meets are translated here by
# pattern (their variable parts kept), any other is shown as the service said it.
REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"the non-concurrence of (?P<org>\S+) is open"),
        N_("the non-concurrence of %(org)s is open"),
    ),
    (
        re.compile(r"an approver of (?P<nation>\S+) has not signed"),
        N_("an approver of %(nation)s has not signed"),
    ),
    (
        re.compile(r"(?P<step>\S+) is taken by the action's (?P<who>.+)"),
        N_("this step is taken by the action's %(who)s"),
    ),
    (
        re.compile(r"no step '(?P<step>[^']*)' from (?P<state>\S+)"),
        N_("that step cannot be taken from %(state)s"),
    ),
    (re.compile(r"the action is (?P<state>\S+)"), N_("the action is %(state)s")),
    (
        re.compile(r"the action is (?P<state>\S+): past approval"),
        N_("the action is %(state)s: past approval"),
    ),
    (
        re.compile(r"part of the action is withheld from you: nobody signs blind"),
        N_("part of the action is withheld from you: nobody signs blind"),
    ),
    (
        re.compile(r"(?P<nation>\S+) has signed this round already"),
        N_("%(nation)s has signed this round already"),
    ),
    (
        re.compile(r"only a bilateral action is signed by each nation"),
        N_("only a bilateral action is signed by each nation"),
    ),
    (
        re.compile(r"the RFI has expired: its LTIOV has passed"),
        N_("the RFI has expired: its LTIOV has passed"),
    ),
    (
        re.compile(r"the RFI cannot be answered now \(a condition on a field withheld from you\)"),
        N_("the RFI cannot be answered now (a condition on a field withheld from you)"),
    ),
    (
        re.compile(r"(?P<nation>\S+) does not sign this action"),
        N_("%(nation)s does not sign this action"),
    ),
    (
        re.compile(r"nobody signs for another nation: you are of (?P<nation>\S+)"),
        N_("nobody signs for another nation: you are of %(nation)s"),
    ),
    (
        re.compile(r"you are not in a (?P<nation>\S+) chain of the action"),
        N_("you are not in a %(nation)s chain of the action"),
    ),
    (
        re.compile(r"the action was changed meanwhile: read it again and retry"),
        N_("the action was changed meanwhile: read it again and retry"),
    ),
)


def word(lang: str, table: dict[str, str], key: str) -> str:
    """A name from one of the tables above in the reader's language (the key if unknown)."""
    text = table.get(key)
    return translations(lang).gettext(text) if text else key


def reason_text(lang: str, reason: str, org: Callable[[str], str] = str) -> str:
    """A refusal reason from the service in the reader's language where one is known (`org`
    names an organisation id for the reader)."""
    gettext = translations(lang).gettext
    for pattern, text in REASONS:
        found = pattern.fullmatch(reason)
        if found is None:
            continue
        parts = found.groupdict()
        if "org" in parts:
            parts["org"] = org(parts["org"])
        if "state" in parts:
            parts["state"] = word(lang, STATES, parts["state"])
        if "who" in parts:
            names = re.split(r",| or | and ", parts["who"])
            who = [word(lang, PARTIES, w.strip()) for w in names if w.strip()]
            parts["who"] = " / ".join(who)
        return gettext(text) % parts
    return reason


def when(lang: str, at: datetime | None) -> str:
    """`2026-12-08 0300Z (1200 JST)`; in Japanese `2026年12月8日(火) 12:00 JST（0300Z）`."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    zulu = at.astimezone(UTC)
    local = at.astimezone(JST)
    if lang == "ja":
        return (
            f"{local.year}年{local.month}月{local.day}日({WEEKDAYS_JA[local.weekday()]}) "
            f"{local:%H:%M} JST（{zulu:%H%M}Z）"
        )
    day = "" if local.date() == zulu.date() else f"{local:%m-%d} "
    return f"{zulu:%Y-%m-%d %H%M}Z ({day}{local:%H%M} JST)"


def value_text(lang: str, name: str, value: FieldValue) -> str:
    """A readable field's value as text: dates in both zones, lists joined, yes/no words."""
    if value is None:
        return ""
    if name in DATE_FIELDS:
        parsed = parse_time(value)
        if parsed is not None:
            return when(lang, parsed)
    if isinstance(value, bool):
        return translations(lang).gettext(N_("yes") if value else N_("no"))
    if isinstance(value, list):
        return "、".join(value) if lang == "ja" else "; ".join(value)
    if name == "action_type" and isinstance(value, str):
        return word(lang, ACTION_TYPES, value)
    text = str(value)
    # Dates inside text ("2027-01-07T03:00Z to 2027-01-21T03:00Z") read like the others.
    text = ISO_IN_TEXT.sub(lambda m: when(lang, parse_time(m.group(0))), text)
    return text.replace(" to ", " 〜 ") if lang == "ja" and ISO_IN_TEXT.search(str(value)) else text
