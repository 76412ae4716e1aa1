"""Catalogue import and export pages: export as CSV or Excel; upload a file, see what it
would add, change and refuse, then confirm."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from pos_app.auth.deps import ManagerDep, Principal
from pos_app.catalog.products import ProductRejected
from pos_app.catalog.spreadsheet import (
    Preview,
    apply_import,
    export_rows,
    load_draft,
    preview_import,
    read_table,
    save_draft,
    to_csv,
    to_xlsx,
)
from pos_app.csvfile import UnreadableFile
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_FILE = "choose a .csv or .xlsx file"
APPLIED = "Applied: {adds} added, {changes} changed; {bad} bad rows left out."
NOTHING_TO_APPLY = "Nothing to add or change."


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/manager/catalog/export.csv")
async def export_csv(conn: TransactionDep, settings: SettingsDep, _: ManagerDep) -> Response:
    rows = await export_rows(conn, store_id=settings.store_id)
    return _download(to_csv(rows), "text/csv; charset=utf-8", "catalogue.csv")


@router.get("/manager/catalog/export.xlsx")
async def export_xlsx(conn: TransactionDep, settings: SettingsDep, _: ManagerDep) -> Response:
    rows = await export_rows(conn, store_id=settings.store_id)
    return _download(to_xlsx(rows), XLSX, "catalogue.xlsx")


def _page(
    request: Request,
    settings: Settings,
    manager: Principal,
    *,
    preview: Preview | None = None,
    error: str | None = None,
    message: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_catalog_import.html",
        {"preview": preview, "error": error, "message": message, "principal": manager},
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/catalog/import", response_class=HTMLResponse)
async def import_page(request: Request, settings: SettingsDep, manager: ManagerDep) -> HTMLResponse:
    return _page(request, settings, manager)


@router.post("/manager/catalog/import", response_class=HTMLResponse)
async def upload(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    """The preview of an uploaded file; the file's rows wait for the confirm."""
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return _page(request, settings, manager, error=NO_FILE, code=422)
    data = await upload_file.read()
    try:
        rows = read_table(upload_file.filename, data)
    except UnreadableFile as error:
        return _page(request, settings, manager, error=str(error), code=422)
    preview = await preview_import(conn, upload_file.filename, rows, store_id=settings.store_id)
    if preview.good_rows:
        await save_draft(conn, preview, rows, actor=manager.actor)
    return _page(request, settings, manager, preview=preview)


@router.post("/manager/catalog/import/{draft_id}/confirm", response_class=HTMLResponse)
async def confirm(
    draft_id: str,
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> HTMLResponse:
    """Apply the good rows of the upload, checked again against the catalogue as it is now."""
    await csrf.require_token(request, settings.secret_key)
    try:
        filename, rows = await load_draft(conn, draft_id, actor=manager.actor)
    except LookupError as error:
        return _page(request, settings, manager, error=str(error), code=404)
    preview = await preview_import(conn, filename, rows, store_id=settings.store_id)
    preview.draft_id = draft_id
    if not preview.good_rows:
        return _page(request, settings, manager, preview=preview, error=NOTHING_TO_APPLY, code=409)
    try:
        async with conn.begin_nested():  # a refused row undoes the rows applied before it
            await apply_import(
                conn, preview, settings=settings, user=manager.name, actor=manager.actor
            )
    except ProductRejected as error:
        return _page(request, settings, manager, error=str(error), code=409)
    after_commit(conn, relay.wake)
    message = APPLIED.format(
        adds=len(preview.adds), changes=len(preview.changes), bad=len(preview.bad)
    )
    return _page(request, settings, manager, message=message)
