"""The texts the page scripts show, marked for the one catalogue and handed to them as JSON."""

from __future__ import annotations

from kyodo.web.i18n import N_
from kyodo.web.reasons import REASONS, SUMMARIES

JS_MESSAGES: dict[str, str] = {
    "reply": N_("Reply"),
    "edit": N_("Edit"),
    "history": N_("History"),
    "receipts": N_("Seen by"),
    "no_receipts": N_("No receipt yet (TAK clients send them when a message arrives and is read)."),
    "receipt_read": N_("read"),
    "receipt_delivered": N_("delivered"),
    "save": N_("Save"),
    "cancel": N_("Cancel"),
    "edited": N_("edited"),
    "deleted": N_("This message was deleted."),
    "replying_to": N_("Replying to message"),
    "in_reply_to": N_("In reply to"),
    "version": N_("Version"),
    "no_findings": N_("The guard finds nothing above the chosen label."),
    "findings": N_("What the spillage guard found:"),
    "covered": N_("The chosen label covers what the spillage guard found:"),
    "finding_needs": N_("needs at least {level}"),
    "suggested": N_("Suggested label:"),
    # The guard's reasons: the codes of services/spillage.py, with their values.
    "guard.above_label": N_(
        "This text needs at least {suggested}: raise the label before posting."
    ),
    "guard.above_ceiling": N_(
        "This text belongs in a {level} net, not in {net}: no label this net may carry covers it."
    ),
    "guard.not_for_author": N_(
        "This text needs {level}, a label you may not use: it belongs in another net, not in {net}."
    ),
    "guard.no_override": N_("You may not override the spillage guard."),
    "guard.justification_short": N_(
        "An override needs a written justification of at least {minimum} characters."
    ),
    "raise_and_post": N_("Raise the label to {label} and post"),
    "elsewhere": N_("Your nets that can carry it, at the label to use there:"),
    "partners_cut": N_(
        "The text's own marking keeps it from some members of this net: only those it is "
        "releasable to will receive it."
    ),
    "recipients": N_("Who will receive it:"),
    "override_needed": N_(
        "The guard refused this message. You may post it anyway with a written justification."
    ),
    "override_refused": N_("The guard refused this message."),
    "post_anyway": N_("Post anyway"),
    "justification": N_("Justification (audited)"),
    "connected": N_("Live"),
    "disconnected": N_("Reconnecting…"),
    "removed": N_("You are no longer a member of this net."),
    "error": N_("Error"),
    "unread": N_("unread"),
    "member_added": N_("Member added."),
    "refused": N_("Refused"),
    "sending": N_("Sending…"),
    "delete": N_("Delete"),
    "confirm_delete": N_("Delete this message? It stays in the record."),
    "hidden": N_("This message was relabelled above what you may read."),
    "by_nation": N_("by nation"),
    "justification_short": N_("Write a justification of at least a few words."),
    "label_above_ceiling": N_("above the net's ceiling"),
    "session_ended": N_("Your session ended. Log in again to go on; your draft is kept."),
    "log_in_again": N_("Log in again"),
    # The policy's reason codes and the errors' summaries (web/reasons.py).
    **REASONS,
    **{f"problem.{code.value}": text for code, text in SUMMARIES.items()},
}
