"""Coordination action pages: the inbox (`/actions`) and one action (`/actions/{id}`) with its
fields, steps, timeline, comment matrix, concurrences and sign-off panel — every answer from the
actions services as the reader sees it (withheld fields stay withheld)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kyodo.api.problems import STATUS
from kyodo.domain.actions import MACHINES, ActionKind, deadline_field
from kyodo.errors import KyodoError, NotFound, PermissionDenied
from kyodo.labels import Label, join_all
from kyodo.services import actions
from kyodo.services.actions import ActionDetail, ActionSeen, FieldSeen
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.web import actions_view as v
from kyodo.web.directory_page import org_name, readable_orgs
from kyodo.web.i18n import N_, translations
from kyodo.web.people_view import by_id, display_name, readable_people
from kyodo.web.session import FormDep, PageActor, context_of
from kyodo.web.templating import language_of, render_error, render_page

router = APIRouter(include_in_schema=False)
SCOPES = {"all": N_("All my actions"), "mine": N_("My actions"), "waiting": N_("Waiting on me")}
DONE = {"step": N_("Step taken."), "signed": N_("Signed for your nation.")}
INBOX_LIMIT = 200
MAX_STEP, MAX_REASON = 64, 2000
TOO_LONG = N_("a step name is 1 to 64 characters and a reason at most 2000")


class _Names:
    """Organisation and person names the reader may read (ids where they may not)."""

    def __init__(self, orgs: dict[str, str], people: dict[str, str]) -> None:
        self.orgs = orgs
        self.people = people

    def org(self, org_id: str | None) -> str:
        return "" if org_id is None else self.orgs.get(org_id, org_id)

    def person(self, person_id: str | None) -> str:
        return "" if person_id is None else self.people.get(person_id, person_id)


async def _names(ctx: ServiceContext, actor: Actor, lang: str) -> _Names:
    orgs = await readable_orgs(ctx, actor)
    people = await readable_people(ctx, actor)
    return _Names(
        # Japanese readers get the Japanese name, without its parenthetical note.
        {o.id: org_name(o, lang).split(" (")[0] if lang == "ja" else o.abbr for o in orgs},
        {pid: display_name(p, lang) for pid, p in by_id(people).items()},
    )


def _field(lang: str, name: str, seen: FieldSeen) -> dict[str, Any]:
    """A field for a template: its name, its value as text, or withheld (never its value)."""
    return {
        "name": name,
        "title": v.word(lang, v.FIELDS, name),
        "withheld": seen.withheld,
        "label": seen.label,
        "text": "" if seen.withheld else v.value_text(lang, name, seen.value),
    }


def _row(lang: str, seen: ActionSeen, names: _Names) -> dict[str, Any]:
    deadline = deadline_field(seen.kind)
    title = seen.fields.get("title")
    due = seen.fields.get(deadline)
    return {
        "seen": seen,
        "kind": v.word(lang, v.KINDS, seen.kind.value),
        "state": v.word(lang, v.STATES, seen.state),
        "priority": v.word(lang, v.WORDS, seen.priority.value),
        "title": _field(lang, "title", title) if title else None,
        "deadline": _field(lang, deadline, due) if due else None,
        "deadline_name": v.word(lang, v.SHORT, deadline),
        "owner": names.org(seen.owner_org),
        "opr": names.org(seen.opr_org),
    }


@router.get("/actions", response_class=HTMLResponse)
async def inbox(
    request: Request,
    actor: PageActor,
    scope: str = "all",
    kind: str = "",
    state: str = "",
) -> Response:
    """My actions and what waits on me, overdue first, filtered by kind and state."""
    ctx = context_of(request)
    lang = language_of(request, actor)
    scope = scope if scope in SCOPES else "all"
    chosen_kind = ActionKind(kind) if kind in {k.value for k in ActionKind} else None
    states = sorted(
        {s for m in MACHINES.values() if chosen_kind in (None, m.kind) for s in m.states}
    )
    state = state if state in states else ""
    page = await actions.list_actions(
        ctx,
        actor,
        actions.ActionQuery(
            kind=chosen_kind,
            state=state or None,
            mine=scope == "mine",
            waiting_on_me=scope == "waiting",
            sort="inbox",
            limit=INBOX_LIMIT,
        ),
    )
    names = await _names(ctx, actor, lang)
    rows = [_row(lang, s, names) for s in page.items]
    # The banner: what the rows show (the core, the title and the deadline), not whole actions.
    labels: list[Label] = [
        f["label"]
        for r in rows
        for f in (r["title"], r["deadline"])
        if f is not None and not f["withheld"] and f["label"] is not None
    ] + [s.label for s in page.items]
    return render_page(
        request,
        "actions.html",
        actor=actor,
        active="actions",
        page_label=join_all(*labels) if labels else None,
        rows=rows,
        total=page.total,
        scope=scope,
        scopes=SCOPES,
        kind=chosen_kind.value if chosen_kind else "",
        kinds=v.KINDS,
        state=state,
        states=[(s, v.word(lang, v.STATES, s)) for s in states],
    )


def _reasons(exc: KyodoError) -> list[str]:
    """The service's reasons for a refusal, as it gave them."""
    if isinstance(exc, PermissionDenied) and exc.reasons:
        found = list(exc.reasons)
    else:
        _, sep, rest = exc.message.partition(" refused: ")
        found = rest.split("; ") if sep else [exc.message]
    return found


async def _action_page(
    request: Request,
    actor: Actor,
    action_id: str,
    *,
    error: list[str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = context_of(request)
    lang = language_of(request, actor)
    try:
        detail: ActionDetail = await actions.get_action(ctx, actor, action_id)
    except KyodoError as exc:
        return render_error(request, actor, exc)
    seen = detail.seen
    names = await _names(ctx, actor, lang)
    gettext = translations(lang).gettext
    # Fields in the kind's order (title and suspense first), each as the reader sees it.
    order = ["title", "suspense", *(n for n in v.FIELDS if n not in ("title", "suspense"))]
    fields = [_field(lang, n, seen.fields[n]) for n in order if n in seen.fields]
    machine = MACHINES[seen.kind]
    steps = [
        {
            "name": s,
            "title": v.word(lang, v.STEPS, s),
            "target": v.word(lang, v.STATES, machine.step(seen.state, s).target)  # type: ignore[union-attr]
            if machine.step(seen.state, s)
            else "",
        }
        for s in seen.next_steps
    ]
    timeline = [
        {
            "at": v.when(lang, t.at),
            "who": names.person(t.actor_id),
            "step": v.word(lang, v.STEPS, t.name),
            "from": v.word(lang, v.STATES, t.from_state),
            "to": v.word(lang, v.STATES, t.to_state),
            "reason": t.reason,
        }
        for t in detail.transitions
    ]
    comments = [
        {
            "c": c,
            "office": names.org(c.org_id),
            "author": names.person(c.author_id),
            "type": v.word(lang, v.WORDS, c.type.value),
            "decision": v.word(lang, v.WORDS, c.decision.value) if c.decision else "",
            "at": v.when(lang, c.created_at),
        }
        for c in detail.comments
    ]
    by_office = {c.org_id: c for c in detail.concurrences}
    concurrences = [
        {
            "office": names.org(org),
            "org": org,
            "answer": v.word(lang, v.WORDS, by_office[org].answer.value)
            if org in by_office
            else "",
            "answer_key": by_office[org].answer.value if org in by_office else "pending",
            "status": v.word(lang, v.WORDS, by_office[org].status.value)  # type: ignore[union-attr]
            if org in by_office and by_office[org].status
            else "",
            "level": v.word(lang, v.WORDS, by_office[org].level.value) if org in by_office else "",
            "who": names.person(by_office[org].person_id) if org in by_office else "",
            "at": v.when(lang, by_office[org].at) if org in by_office else "",
        }
        for org in seen.ocr_orgs
    ]
    current = {s.nation: s for s in detail.signatures if s.round == seen.round}
    signoff = [
        {
            "nation": nation,
            "signed": nation in current,
            "who": names.person(current[nation].person_id) if nation in current else "",
            "org": names.org(current[nation].org_id) if nation in current else "",
            "at": v.when(lang, current[nation].at) if nation in current else "",
        }
        for nation in seen.required_nations
    ]
    me = actor.subject
    may_offer_sign = (
        me.nation in seen.required_nations
        and me.nation not in current
        and "approver" in seen.parties
        and seen.state not in machine.terminal
    )
    return render_page(
        request,
        "action.html",
        actor=actor,
        active="actions",
        page_label=detail.banner,
        status_code=status_code,
        seen=seen,
        kind=v.word(lang, v.KINDS, seen.kind.value),
        state=v.word(lang, v.STATES, seen.state),
        priority=v.word(lang, v.WORDS, seen.priority.value),
        fields=fields,
        steps=steps,
        timeline=timeline,
        comments=comments,
        concurrences=concurrences,
        signoff=signoff,
        may_offer_sign=may_offer_sign,
        owner=names.org(seen.owner_org),
        opr=names.org(seen.opr_org),
        officer=names.person(seen.action_officer_id),
        created=v.when(lang, seen.created_at),
        updated=v.when(lang, seen.updated_at),
        error=[
            gettext(r) if r == TOO_LONG else v.reason_text(lang, r, names.org) for r in error or ()
        ],
        done=done and gettext(done),
    )


@router.get("/actions/{action_id}", response_class=HTMLResponse)
async def action_page(
    request: Request, action_id: str, actor: PageActor, done: str = ""
) -> Response:
    """One action as the reader sees it (404 as for a missing one if they may not)."""
    return await _action_page(request, actor, action_id, done=DONE.get(done))


async def _refused(request: Request, actor: Actor, action_id: str, exc: KyodoError) -> Response:
    if isinstance(exc, NotFound):
        return render_error(request, actor, exc)
    status = STATUS.get(exc.code, 400)
    return await _action_page(request, actor, action_id, error=_reasons(exc), status_code=status)


@router.post("/actions/{action_id}/step", response_class=HTMLResponse)
async def take_step(request: Request, action_id: str, post: FormDep) -> Response:
    """Take a step: the service decides (and audits); a refusal shows its reasons."""
    step, reason = post.text("step"), post.text("reason")
    # The API's bounds (TransitionIn); the service itself does not bound a reason.
    if not 0 < len(step) <= MAX_STEP or len(reason) > MAX_REASON:
        return await _action_page(request, post.actor, action_id, error=[TOO_LONG], status_code=422)
    try:
        await actions.transition(context_of(request), post.actor, action_id, step, reason)
    except KyodoError as exc:
        return await _refused(request, post.actor, action_id, exc)
    return RedirectResponse(f"/actions/{action_id}?done=step", status_code=303)


@router.post("/actions/{action_id}/sign", response_class=HTMLResponse)
async def sign(request: Request, action_id: str, post: FormDep) -> Response:
    """Sign for your own nation: the service decides who may."""
    try:
        await actions.sign(context_of(request), post.actor, action_id)
    except KyodoError as exc:
        return await _refused(request, post.actor, action_id, exc)
    return RedirectResponse(f"/actions/{action_id}?done=signed", status_code=303)
