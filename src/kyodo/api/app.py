"""The app factory: builds settings-driven state in `create_app`, nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from kyodo import __version__, web
from kyodo.api import fast_post, problems, stream
from kyodo.api.message_json import message_json
from kyodo.api.middleware import BodyLimit, NoStoreApi
from kyodo.api.routes import (
    actions,
    audit,
    directory,
    guard,
    labels,
    marti,
    marti_sync,
    nets,
    session,
    tracks,
)
from kyodo.api.schemas import Health
from kyodo.api.track_json import track_deleted_frame, track_frame
from kyodo.errors import Unavailable
from kyodo.services.context import ServiceContext
from kyodo.services.live import LiveHub
from kyodo.services.session_sweep import SessionSweeper
from kyodo.settings import Settings
from kyodo.takserver.server import TakServer
from kyodo.wiring import build_context, load_enrolment_ca, open_sealer


def create_app(settings: Settings | None = None, context: ServiceContext | None = None) -> FastAPI:
    """A Kyodo app; pass a context to share one (tests), else it is built from settings."""
    settings = settings or Settings()
    ctx = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sealer = open_sealer(ctx, settings)  # refuses to start without a usable key
        await sealer.start()
        sweeper = SessionSweeper(ctx)
        sweeper.start()
        tak = TakServer(ctx, settings)
        await tak.start()
        app.state.tak = tak
        app.state.tak_clients = tak  # what /Marti/api/clientEndPoints lists
        yield
        await tak.stop()
        await sweeper.stop()
        await ctx.group_commit.flush()  # anything still queued to be written
        await sealer.stop()  # a last checkpoint over everything written
        ctx.bus.unsubscribe(hub.handle)
        if context is None:
            await ctx.db.dispose()

    app = FastAPI(
        title="Kyodo",
        version=__version__,
        description="Labelled, policy-checked workspace for a combined headquarters.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.context = ctx
    app.state.enrolment_ca = load_enrolment_ca(settings)
    problems.install(app)
    # Added last, so they run first: no-store marks the limit's 413 too.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        large=marti_sync.UPLOAD_PATHS,
        large_limit=settings.file_max_bytes,
    )
    app.add_middleware(NoStoreApi)
    for module in (session, directory, labels, audit, nets, guard, tracks, actions):
        app.include_router(module.router, prefix="/api/v1")
    # First, so a chat message skips FastAPI's dependency solving (see fast_post's docstring).
    app.router.routes.insert(0, fast_post.route(ctx))
    app.include_router(stream.router)
    app.include_router(marti.router)
    app.include_router(marti_sync.router)
    hub = LiveHub(
        ctx.decisions,
        max_queue=settings.live_queue,
        render_message=partial(message_json, ctx.registry),
        render_track=partial(track_frame, ctx.registry),
        render_track_deleted=partial(track_deleted_frame, ctx.registry),
    )
    ctx.bus.subscribe(hub.handle)
    app.state.hub = hub
    web.install(app)  # the browser UI: / is its home page (or login); /api/docs stays

    @app.get("/api/v1/health", response_model=Health, tags=["health"])
    async def health() -> Health | JSONResponse:
        """Liveness and database reachability (503 when the database is down)."""
        try:
            await ctx.db.ping()
        except Unavailable as exc:
            return problems.problem(503, exc.message, "unavailable")
        return Health(status="ok", database="ok")

    return app
