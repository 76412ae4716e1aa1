"""Catalogue import through the REST API, as on the page: upload a .csv or .xlsx file
and get its preview (rows to add, rows to change old -> new, bad rows with line numbers
and reasons); nothing changes until the draft is confirmed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile, status
from pydantic import BaseModel

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import CATALOG_WRITE
from pos_app.catalog.import_pages import NOTHING_TO_APPLY
from pos_app.catalog.products import ProductIn, ProductRejected
from pos_app.catalog.spreadsheet import (
    Preview,
    apply_import,
    load_draft,
    preview_import,
    read_table,
    save_draft,
)
from pos_app.csvfile import UnreadableFile
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep

router = APIRouter(prefix="/api/v1/catalog/imports", tags=["catalog"])
CatalogWriter = Annotated[Principal, Depends(require_scope(CATALOG_WRITE))]


class AddedRow(BaseModel):
    line: int
    product: ProductIn


class ChangedRow(BaseModel):
    line: int
    sku: str
    changes: dict[str, tuple[Any, Any]]  # column -> [old, new]


class BadRow(BaseModel):
    line: int
    reason: str


class ImportPreview(BaseModel):
    draft_id: str | None  # null: no good row, nothing to confirm
    filename: str
    adds: list[AddedRow]
    changes: list[ChangedRow]
    bad: list[BadRow]
    unchanged: int

    @classmethod
    def of(cls, preview: Preview) -> ImportPreview:
        return cls(
            draft_id=preview.draft_id,
            filename=preview.filename,
            adds=[AddedRow(line=line, product=item) for line, item in preview.adds],
            changes=[
                ChangedRow(line=line, sku=sku, changes=diff) for line, sku, diff in preview.changes
            ],
            bad=[BadRow(line=line, reason=reason) for line, reason in preview.bad],
            unchanged=preview.unchanged,
        )


class ImportApplied(ImportPreview):
    opening_receipt_id: str | None  # the receipt carrying new products' opening stock


@router.post(
    "",
    response_model=ImportPreview,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Not a readable .csv or .xlsx file"}},
)
async def post_import(
    conn: TransactionDep,
    settings: SettingsDep,
    principal: CatalogWriter,
    file: Annotated[UploadFile, File(description="the catalogue, .csv (UTF-8) or .xlsx")],
) -> ImportPreview:
    """Check a catalogue file against the catalogue and keep its good rows as a draft;
    nothing changes until `POST /api/v1/catalog/imports/{draft_id}/confirm`."""
    name = file.filename or "upload"
    try:
        rows = read_table(name, await file.read())
    except UnreadableFile as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    preview = await preview_import(conn, name, rows, store_id=settings.store_id)
    if preview.good_rows:
        await save_draft(conn, preview, rows, actor=principal.actor)
    return ImportPreview.of(preview)


@router.post(
    "/{draft_id}/confirm",
    response_model=ImportApplied,
    responses={
        404: {"description": "No such draft, applied already, or uploaded by someone else"},
        409: {"description": "Nothing left to add or change, or a row is refused now"},
    },
)
async def confirm_import(
    draft_id: str,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: CatalogWriter,
) -> ImportApplied:
    """Apply the draft's good rows, checked again against the catalogue as it is now;
    bad rows are left out. A draft is applied once."""
    try:
        filename, rows = await load_draft(conn, draft_id, actor=principal.actor)
    except LookupError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    preview = await preview_import(conn, filename, rows, store_id=settings.store_id)
    preview.draft_id = draft_id
    if not preview.good_rows:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=NOTHING_TO_APPLY)
    try:
        async with conn.begin_nested():  # a refused row undoes the rows applied before it
            receipt = await apply_import(
                conn, preview, settings=settings, user=principal.name, actor=principal.actor
            )
    except ProductRejected as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    shown = ImportPreview.of(preview)
    return ImportApplied(
        **shown.model_dump(), opening_receipt_id=receipt.receipt_id if receipt else None
    )
