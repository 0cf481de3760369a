"""The spillage guard for clients: findings while the person types, and who will see the message."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import to_label
from kyodo.api.schemas import GuardCheckIn, GuardCheckOut, LabelOut, Recipient
from kyodo.api.schemas.guard import GuardReason, NetSuggestion
from kyodo.services import spillage
from kyodo.services.guard_advice import Verdict

router = APIRouter(tags=["guard"])


@router.post("/guard/check", response_model=GuardCheckOut)
async def check(body: GuardCheckIn, actor: CurrentActor, ctx: Context) -> GuardCheckOut:
    """Check a draft: the guard's findings and, for a net, the label to use there (or the level
    the text needs elsewhere), whether an override is allowed, and the members (by nation) who
    would receive it at the chosen label. Nothing is stored, and a preview is not audited (a
    refused post is)."""
    label = to_label(ctx, body.label)
    result, found = await spillage.preview(ctx, actor, body.text, label, body.net_id)
    findings = [f.as_dict(ctx.registry) for f in result.findings]
    if found is None:
        suggested = ctx.registry.fit(result.suggested)
        return GuardCheckOut(
            refused=result.refused,
            suggested=LabelOut.of(suggested, ctx.registry),
            needed=LabelOut.of(suggested, ctx.registry),
            findings=findings,
            above_ceiling=None,
            in_net=None,
            keeps_partners=None,
            overridable=None,
            reason=None,
            elsewhere=None,
            recipients=None,
            recipients_by_nation=None,
        )
    readers = found.recipients
    advice = found.advice
    reason = found.reason
    return GuardCheckOut(
        refused=result.refused,
        suggested=None if advice.label is None else LabelOut.of(advice.label, ctx.registry),
        needed=LabelOut.of(advice.needed, ctx.registry),
        findings=list(found.findings),
        above_ceiling=advice.verdict is Verdict.ABOVE_CEILING,
        in_net=advice.verdict is Verdict.IN_NET,
        keeps_partners=advice.keeps_partners,
        overridable=found.overridable,
        reason=None
        if reason is None
        else GuardReason(code=reason.code, params=reason.params, detail=reason.english),
        elsewhere=[
            NetSuggestion(net_id=n.id, name=n.name, suggested=LabelOut.of(lb, ctx.registry))
            for n, lb in found.elsewhere
        ],
        recipients=[
            Recipient(person_id=p.id, username=p.username, name=p.name, nation=p.nation)
            for p in readers
        ],
        recipients_by_nation=dict(Counter(p.nation for p in readers)),
    )
