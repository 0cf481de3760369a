"""The security officer's page: the audit log with filters, its verification, refused
memberships and guard overrides."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kyodo.audit.chain import AuditRecord
from kyodo.audit.seal import sealed_anchors
from kyodo.audit_files import CheckpointFile, SealFileError, load_key, seal_paths
from kyodo.errors import KyodoError, LabelError
from kyodo.labels import Label, join_all, label_from_json
from kyodo.services import audit
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery
from kyodo.web.i18n import N_
from kyodo.web.session import PageActor, context_of
from kyodo.web.templating import render_error, render_page

router = APIRouter(include_in_schema=False)
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")
SCAN_PAGES = 25
RECENT = 50
DECISIONS = (N_("allow"), N_("deny"), N_("info"))


async def _scan(
    ctx: ServiceContext, actor: Actor, query: AuditQuery, keep: Any
) -> list[AuditRecord]:
    """The newest RECENT records matching `query` and `keep` (a bounded walk of the pages)."""
    found: list[AuditRecord] = []
    cursor: int | None = None
    for _ in range(SCAN_PAGES):
        page = await audit.list_audit(ctx, actor, query, cursor, 200)
        found.extend(r for r in page.items if keep(r))
        found = found[-RECENT:]
        if page.next_cursor is None:
            break
        cursor = int(page.next_cursor)
    return list(reversed(found))


def _labels(records: list[AuditRecord], ctx: ServiceContext) -> list[Label]:
    labels = []
    for record in records:
        if record.entry.label is not None:
            with contextlib.suppress(LabelError):
                labels.append(label_from_json(record.entry.label, ctx.registry))
    return labels


def _sealed(request: Request) -> dict[int, str] | None:
    """The heads the server's sealed checkpoints vouch for, as anchors: the page's verify then
    also catches a tail cut off below the newest (`kyodo audit verify --deep` does the rest)."""
    key_path, log_path = seal_paths(request.app.state.settings)
    try:
        public = load_key(key_path).public_key()
    except SealFileError:
        return None
    anchors, _ = sealed_anchors(CheckpointFile(log_path).read(), public)
    return anchors


@router.get("/security", response_class=HTMLResponse)
async def security(request: Request, actor: PageActor) -> Response:
    """Security officers only (the service refuses others, and audits the refusal)."""
    ctx = context_of(request)
    params = request.query_params
    values = {name: (params.get(name) or "").strip()[:128] for name in FILTERS}
    try:
        cursor_text = params.get("cursor") or ""
        cursor = int(cursor_text) if cursor_text.isdigit() else None
        query = AuditQuery(**{k: v or None for k, v in values.items()})
        page = await audit.list_audit(ctx, actor, query, cursor, 100)
        refused = await _scan(
            ctx,
            actor,
            AuditQuery(action="net.add_member"),
            lambda r: r.entry.decision == "deny",
        )
        overrides = await _scan(
            ctx,
            actor,
            AuditQuery(object_type="message"),
            lambda r: "guard_override" in r.entry.details,
        )
    except KyodoError as exc:
        return render_error(request, actor, exc)
    report = await audit.verify_audit(ctx, actor, _sealed(request))
    labels = _labels([*page.items, *refused, *overrides], ctx)
    return render_page(
        request,
        "security.html",
        actor=actor,
        active="security",
        page_label=join_all(*labels) if labels else None,
        filters=values,
        records=page.items,
        next_cursor=page.next_cursor,
        report=report,
        refused=refused,
        overrides=overrides,
    )
