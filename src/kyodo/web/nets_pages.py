"""Nets in the browser: the list, creating one (label picker, who may join), the chat view."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kyodo.api.message_json import authored_json
from kyodo.domain.nets import Net, NetRole
from kyodo.errors import KyodoError, PermissionDenied
from kyodo.labels import Label, join_all
from kyodo.policy import Action, Container, Resource, decide
from kyodo.policy import nets as net_rules
from kyodo.services import messages, nets
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.web.i18n import translations
from kyodo.web.label_picker import REL_CHOICES, choices, default_levels, picked_label
from kyodo.web.labels_view import SCHEME_OF_LANGUAGE, view
from kyodo.web.people_view import by_id, clearance_text, display_name, readable_people
from kyodo.web.reasons import error_text
from kyodo.web.session import FormDep, FormPost, PageActor, context_of
from kyodo.web.templating import language_of, render_error, render_page

router = APIRouter(include_in_schema=False)
INITIAL_MESSAGES = 200


@router.get("/nets", response_class=HTMLResponse)
async def list_nets(request: Request, actor: PageActor) -> Response:
    """The nets the person belongs to."""
    mine = await nets.list_my_nets(context_of(request), actor)
    return render_page(request, "nets.html", actor=actor, active="nets", nets=mine)


def _picker_context(request: Request, actor: Actor) -> dict[str, Any]:
    """The picker in the reader's scheme first (Japanese officers: the JPN scheme's levels
    and compartments first, and its levels chosen to begin with)."""
    registry = context_of(request).registry
    policy = SCHEME_OF_LANGUAGE.get(language_of(request, actor))
    ceiling, entry = default_levels(registry, policy)
    return {
        "schemes": choices(registry, policy),
        "rel_choices": REL_CHOICES,
        "default_ceiling": ceiling,
        "default_entry": entry,
    }


@router.get("/nets/new", response_class=HTMLResponse)
async def new_net(request: Request, actor: PageActor) -> Response:
    """The form to create a net, with its label picker."""
    return render_page(
        request,
        "net_new.html",
        actor=actor,
        active="nets",
        error=None,
        **_picker_context(request, actor),
    )


def _labels_of(post: FormPost, request: Request) -> tuple[Label, Label, Label]:
    registry = context_of(request).registry
    ceiling = picked_label(post, "ceiling", registry)
    entry = (
        ceiling if post.text("entry_same", "") == "on" else picked_label(post, "entry", registry)
    )
    default = entry if post.text("default_is", "entry") == "entry" else ceiling
    return ceiling, entry, default


@router.post("/nets/new/preview", response_class=HTMLResponse)
async def preview(request: Request, post: FormDep) -> Response:
    """The picked labels as banners and portion markings, and who among the people the person
    may see could join (the policy's JOIN on the entry label)."""
    ctx = context_of(request)
    lang = language_of(request, post.actor)
    try:
        ceiling, entry, default = _labels_of(post, request)
        if not ceiling.dominates(entry):
            raise KyodoError(
                translations(lang).gettext("The entry label must be at or below the ceiling.")
            )
    except KyodoError as exc:
        text = error_text(exc, lang, context_of(request).registry)
        message = " ".join(filter(None, (text.summary, text.detail)))
        return render_page(request, "_net_preview.html", actor=post.actor, error=message)
    container = Container(post.text("name") or "the new net", ceiling, entry)
    people = []
    for person in await readable_people(ctx, post.actor):
        decision = decide(person.subject(), Action.JOIN, Resource(entry, container=container))
        people.append(
            {
                "name": display_name(person, lang),
                "username": person.username,
                "nation": person.nation,
                "clearance": clearance_text(person, ctx.registry, lang),
                "allowed": decision.allowed,
                "reasons": decision.reasons,
            }
        )
    people.sort(key=lambda p: (not p["allowed"], p["nation"], p["username"]))
    return render_page(
        request,
        "_net_preview.html",
        actor=post.actor,
        error=None,
        ceiling=view(ceiling, ctx.registry, lang),
        entry=view(entry, ctx.registry, lang),
        default=view(default, ctx.registry, lang),
        people=people,
        may_read_ceiling=ctx.decisions.can_read(post.actor.subject, ceiling),
    )


@router.post("/nets/new", response_class=HTMLResponse)
async def create_net(request: Request, post: FormDep) -> Response:
    """Create the net through the service (you must read its ceiling); open it."""
    ctx = context_of(request)
    try:
        ceiling, entry, default = _labels_of(post, request)
        net = await nets.create_net(
            ctx,
            post.actor,
            name=post.text("name"),
            purpose=post.text("purpose"),
            org_id=None,
            ceiling=ceiling,
            entry=entry,
            default_label=default,
            retention_days=None,
        )
    except KyodoError as exc:
        text = error_text(exc, language_of(request, post.actor), context_of(request).registry)
        return render_page(
            request,
            "net_new.html",
            actor=post.actor,
            active="nets",
            error=" ".join(filter(None, (text.summary, text.detail))),
            reasons=text.reasons,
            form=post.form,
            status_code=422 if not isinstance(exc, PermissionDenied) else 403,
            **_picker_context(request, post.actor),
        )
    if request.headers.get("hx-request"):
        response = Response(status_code=204)
        response.headers["HX-Redirect"] = f"/nets/{net.id}"
        return response
    return RedirectResponse(f"/nets/{net.id}", status_code=303)


def composer_labels(ctx: ServiceContext, actor: Actor, net: Net) -> list[Label]:
    """Labels offered when posting: each level up to the ceiling, with the net's releasability
    choices, that the ceiling dominates and the author may read."""
    registry = ctx.registry
    scheme = registry.scheme(net.ceiling.policy)
    rels = {net.ceiling.releasable_to, net.entry.releasable_to, net.default_label.releasable_to}
    rels.add(frozenset({scheme.nation}))
    found: set[Label] = {net.default_label, net.entry, net.ceiling}
    for level in scheme.levels:
        if level.rank > net.ceiling.rank:
            continue
        for rel in rels:
            if level.rank == 0:
                candidate = registry.make_label(scheme.policy, level.id)
            elif rel is None:
                continue
            else:
                candidate = registry.make_label(scheme.policy, level.id, (), sorted(rel))
            found.add(candidate)
    usable = [
        label
        for label in found
        if net.ceiling.dominates(label) and ctx.decisions.can_read(actor.subject, label)
    ]
    return sorted(
        usable, key=lambda lb: (lb.rank, len(lb.restrictive), -len(lb.releasable_to or ()))
    )


@router.get("/nets/{net_id}", response_class=HTMLResponse)
async def chat(request: Request, net_id: str, actor: PageActor) -> Response:
    """The chat view: the latest messages the person may read, members, the composer."""
    try:
        return await _chat(request, net_id, actor)
    except KyodoError as exc:
        return render_error(request, actor, exc)


async def _chat(request: Request, net_id: str, actor: Actor) -> Response:
    ctx = context_of(request)
    lang = language_of(request, actor)
    net = await nets.get_net(ctx, actor, net_id)
    # The newest messages, oldest first; what changes after them comes through the stream's
    # replay after the last rev shown.
    latest = await messages.latest_messages(ctx, actor, net_id, INITIAL_MESSAGES)
    shown = [authored_json(ctx.registry, m) for m in latest]
    message_labels = [m.message.label for m in latest]
    for m, label in zip(shown, message_labels, strict=True):
        m["display"] = view(label, ctx.registry, lang).as_dict()
    page_label = join_all(*message_labels) if message_labels else ctx.unclassified()
    members = await nets.list_members(ctx, actor, net_id)
    people = by_id(await readable_people(ctx, actor))
    member_rows = []
    hidden_member = translations(lang).gettext("A member you may not see")
    mine = None
    for member in members:
        person = people.get(member.person_id)
        if member.person_id == actor.subject.id:
            mine = member
        member_rows.append(
            {
                # A member whose record the reader may not read is counted, never named.
                "id": member.person_id if person else "",
                "name": display_name(person, lang) if person else hidden_member,
                "username": person.username if person else "",
                "nation": person.nation if person else "?",
                "clearance": clearance_text(person, ctx.registry, lang) if person else "?",
                "role": member.role.value,
            }
        )
    member_rows.sort(key=lambda r: (r["nation"], r["name"]))
    # Whether to offer the owner's controls: the policy's answer (the service enforces it).
    is_owner = net_rules.may_manage(actor.subject, nets.net_view(net, mine)).allowed
    candidates = [
        {"id": p.id, "label": f"{display_name(p, lang)} ({p.username}, {p.nation})"}
        for p in sorted(people.values(), key=lambda p: (p.nation, p.username))
        if p.id not in {m.person_id for m in members}
    ]
    return render_page(
        request,
        "net.html",
        actor=actor,
        active="nets",
        page_label=page_label,
        net=net,
        ceiling=view(net.ceiling, ctx.registry, lang),
        entry=view(net.entry, ctx.registry, lang),
        messages_json=_json_for_script(shown),
        names_json=_json_for_script({p.id: display_name(p, lang) for p in people.values()}),
        last_rev=max((m["rev"] for m in shown), default=0),
        members=member_rows,
        is_owner=is_owner,
        read_only=mine is not None and mine.role is NetRole.READ_ONLY,
        last_read=mine.last_read if mine is not None else None,
        candidates=candidates,
        composer_labels=[
            (lb, view(lb, ctx.registry, lang)) for lb in composer_labels(ctx, actor, net)
        ],
        default_marking=view(net.default_label, ctx.registry, lang).original,
    )


def _json_for_script(value: Any) -> str:
    """JSON to embed in <script type="application/json">: no "<" may end the element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


@router.post("/nets/{net_id}/members", response_class=HTMLResponse)
async def add_member(request: Request, net_id: str, post: FormDep) -> Response:
    """Add a member (owners, admins): refused with the policy's reasons unless they can read
    the entry label. Answers a status fragment for the page."""
    ctx = context_of(request)
    lang = language_of(request, post.actor)
    gettext = translations(lang).gettext
    try:
        role = NetRole(post.text("role", "member") or "member")
        await nets.add_member(ctx, post.actor, net_id, post.text("person_id"), role)
    except KyodoError as exc:
        text = error_text(exc, lang, context_of(request).registry)
        message = " ".join(filter(None, (text.summary, text.detail)))
        return render_page(
            request,
            "_status.html",
            actor=post.actor,
            ok=False,
            message=message,
            reasons=text.reasons,
        )
    except ValueError as exc:
        return render_page(
            request, "_status.html", actor=post.actor, ok=False, message=str(exc), reasons=()
        )
    response = render_page(
        request,
        "_status.html",
        actor=post.actor,
        ok=True,
        message=gettext("Member added."),
        reasons=(),
    )
    response.headers["HX-Refresh"] = "true"
    return response
