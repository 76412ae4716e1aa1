"""The app factory. The lifespan opens the long-lived clients (MySQL engine, Kafka
producer, MongoDB client) once and closes them on shutdown."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pymongo import AsyncMongoClient

from pos_app import health
from pos_app.alerts import routes as alert_routes
from pos_app.auth import language_routes, pin_routes
from pos_app.auth import routes as auth_routes
from pos_app.auth.deps import LoginRequired, login_required_handler
from pos_app.catalog import import_api, import_pages, label_pages
from pos_app.catalog import pages as catalog_pages
from pos_app.catalog import routes as catalog_routes
from pos_app.counter import receipt_routes
from pos_app.counter import routes as counter_routes
from pos_app.db.engine import make_async_engine
from pos_app.errors import install_error_handlers
from pos_app.events.relay import OutboxRelay
from pos_app.i18n import LocaleMiddleware
from pos_app.inventory import count_api, count_pages, movement_routes, transfer_routes
from pos_app.inventory import routes as inventory_routes
from pos_app.live import routes as live_routes
from pos_app.live.watcher import ChangeWatcher
from pos_app.observability import routes as metrics_routes
from pos_app.observability.middleware import RequestObservationMiddleware
from pos_app.pipeline import routes as pipeline_routes
from pos_app.planning import routes as planning_routes
from pos_app.purchasing import pages as purchasing_pages
from pos_app.purchasing import routes as purchasing_routes
from pos_app.reports import routes as reports_routes
from pos_app.reports import till_routes
from pos_app.returns import routes as return_routes
from pos_app.sales import routes as sales_routes
from pos_app.sales import tax_routes
from pos_app.sales.schemas import PAYMENT_METHODS
from pos_app.security.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from pos_app.settings import REPO_ROOT, Settings, get_settings
from pos_app.templating import templates
from pos_app.till import routes as shift_routes

# A sale of 100 lines is about 6 KiB of JSON; nothing we accept comes near this.
MAX_BODY_BYTES = 256 * 1024


# The payment methods' labels for every page (the payments report among them, whose
# package cannot import the sales package's list without a cycle).
templates.env.globals["payment_methods"] = PAYMENT_METHODS


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = make_async_engine(settings)
        app.state.mongo = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000)
        # The relay connects to Kafka in the background: the counter sells without it.
        app.state.relay = OutboxRelay(app.state.engine, settings)
        app.state.relay.start()
        # One MySQL watcher for every open live page of this process.
        app.state.live = ChangeWatcher(app.state.engine, interval=settings.live_watch_seconds)
        app.state.live.start()
        # Everything made so far (modules, routes, models) lives as long as the process:
        # freezing it keeps it out of the collector's full passes, which otherwise stop
        # every request for ~80 ms now and then under load (5-8 ms frozen; bench/checkout.py).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.live.stop()
            await app.state.relay.stop()
            await app.state.mongo.close()
            await app.state.engine.dispose()

    app = FastAPI(
        title="POS and sales analytics",
        version="0.1.0",
        lifespan=lifespan,
        description="Counter, stock and sales reports for a small shop.",
        docs_url=None,  # served below from static/, not from a CDN
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "api_docs.html", {"title": app.title})

    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_middleware(LocaleMiddleware, default_locale=settings.shop_locale)
    # Added last = outermost: even a 413 carries the security headers.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost of all: every answer, a 413 too, is logged and counted with its request id.
    app.add_middleware(RequestObservationMiddleware)
    app.mount("/static", StaticFiles(directory=REPO_ROOT / "static"), name="static")
    routers = (
        health,
        metrics_routes,
        auth_routes,
        language_routes,
        catalog_routes,
        sales_routes,
        return_routes,
        inventory_routes,
        movement_routes,
        transfer_routes,
        alert_routes,
        pipeline_routes,
        reports_routes,
        till_routes,
        shift_routes,
        planning_routes,
        counter_routes,
        receipt_routes,
        pin_routes,
        tax_routes,
        catalog_pages,
        label_pages,
        import_pages,
        import_api,
        purchasing_pages,
        purchasing_routes,
        count_pages,
        count_api,
        live_routes,
    )
    for module in routers:
        app.include_router(module.router)
    return app
