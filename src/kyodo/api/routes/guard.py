"""The spillage guard for clients: findings while the person types, and who will see the message."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.labels_in import to_label
from kyodo.api.schemas import GuardCheckIn, GuardCheckOut, LabelOut, Recipient
from kyodo.services import spillage

router = APIRouter(tags=["guard"])


@router.post("/guard/check", response_model=GuardCheckOut)
async def check(body: GuardCheckIn, actor: CurrentActor, ctx: Context) -> GuardCheckOut:
    """Check a draft: the guard's findings and suggested label and, for a net, the members
    (by nation) who would receive it at the chosen label. Nothing is stored."""
    label = to_label(ctx, body.label)
    result, suggested, net, readers = await spillage.preview(
        ctx, actor, body.text, label, body.net_id
    )
    recipients = [
        Recipient(person_id=p.id, username=p.username, name=p.name, nation=p.nation)
        for p in readers
    ]
    return GuardCheckOut(
        refused=result.refused,
        suggested=LabelOut.of(suggested, ctx.registry),
        findings=[f.as_dict(ctx.registry) for f in result.findings],
        above_ceiling=None if net is None else not net.ceiling.dominates(suggested),
        recipients=None if net is None else recipients,
        recipients_by_nation=None if net is None else dict(Counter(p.nation for p in readers)),
    )
