"""Refusals and errors as people read them: catalogue texts for error codes and policy reasons."""

from __future__ import annotations

from dataclasses import dataclass

from kyodo.errors import ErrorCode, KyodoError, LabelError, PermissionDenied
from kyodo.labels import SchemeRegistry
from kyodo.web.i18n import N_, translations
from kyodo.web.labels_view import SCHEME_OF_LANGUAGE

# The policy's reason codes (`kyodo.policy.Reason`), with their values in braces.
REASONS: dict[str, str] = {
    "policy.clearance": N_("The clearance ({clearance}) is below {level}."),
    "policy.compartments": N_("{names} is not held."),
    "policy.releasability": N_("It is not releasable to {nation} (REL TO {nations})."),
    "policy.entry": N_("The entry label of {net} is above what may be read."),
    "policy.ceiling": N_("The label is above the ceiling of {net}."),
    "policy.not_member": N_("You are not a member of this net."),
    "policy.role": N_("This needs the role {role}."),
    "policy.read_only": N_("Read-only members cannot post in this net."),
    "policy.not_writer": N_("Only members who may write can post in this net."),
    "policy.not_owner": N_("Only the net's owners or an administrator may change it."),
    "policy.not_author": N_("Only the author can edit a message."),
    "policy.not_author_delete": N_("Only the author or a net owner can delete a message."),
    "policy.edit_lowers": N_("An edit cannot lower a message's label: that is a downgrade."),
}

# What a page says for each kind of error (the English detail is for the API).
SUMMARIES: dict[ErrorCode, str] = {
    ErrorCode.NOT_FOUND: N_("This page does not exist, or you may not see it."),
    ErrorCode.PERMISSION_DENIED: N_("You may not do this."),
    ErrorCode.UNAUTHENTICATED: N_("Your session ended. Log in again."),
    ErrorCode.LABEL_INVALID: N_("This label is not valid or not allowed here."),
    ErrorCode.MARKING_INVALID: N_("This label is not valid or not allowed here."),
    ErrorCode.NO_EQUIVALENT: N_("This label is not valid or not allowed here."),
    ErrorCode.RATE_LIMITED: N_("Too many attempts. Wait a little and try again."),
    ErrorCode.UNAVAILABLE: N_("The service is unavailable for a moment. Try again."),
}
HTTP_SUMMARIES: dict[int, str] = {
    404: N_("This page does not exist, or you may not see it."),
    405: N_("This page cannot be used that way."),
}


def reason_text(
    code: str, params: dict[str, object], lang: str, registry: SchemeRegistry | None = None
) -> str | None:
    """One reason in the reader's language; None for a code the catalogue does not know.
    Levels given with their rank on the shared scale are named in the reader's scheme."""
    text = REASONS.get(code)
    if text is None:
        return None
    scheme = registry.schemes.get(SCHEME_OF_LANGUAGE.get(lang, "")) if registry else None
    if scheme is not None:
        params = dict(params)
        for name, rank in (("level", "rank"), ("clearance", "clearance_rank")):
            place = str(params.get(rank, ""))
            level = scheme.level_at_rank(int(place)) if place.isdigit() else None
            if level is not None:
                params[name] = level.banner
    worded = translations(lang).gettext(text)
    for name, value in params.items():
        worded = worded.replace("{" + name + "}", str(value))
    return worded


@dataclass(frozen=True, slots=True)
class ErrorText:
    """What a page shows of an error: a summary, the reasons, and the English detail where
    the catalogue has no summary (a validation message names the field)."""

    summary: str
    reasons: tuple[str, ...]
    detail: str


def error_text(exc: KyodoError, lang: str, registry: SchemeRegistry | None = None) -> ErrorText:
    """The error in the reader's language (levels in the reader's scheme, given `registry`)."""
    gettext = translations(lang).gettext
    summary = SUMMARIES.get(exc.code)
    reasons: tuple[str, ...] = ()
    if isinstance(exc, PermissionDenied):
        worded = [
            reason_text(str(c.get("code", "")), _params(c), lang, registry) for c in exc.codes
        ]
        # Reasons without a code (rules not yet coded) are shown as the policy wrote them.
        reasons = tuple(w for w in worded if w) if exc.codes and all(worded) else exc.reasons
    detail = exc.message if summary is None or isinstance(exc, LabelError) else ""
    return ErrorText(gettext(summary) if summary else gettext("Error"), reasons, detail)


def _params(code: dict[str, object]) -> dict[str, object]:
    params = code.get("params")
    return dict(params) if isinstance(params, dict) else {}
