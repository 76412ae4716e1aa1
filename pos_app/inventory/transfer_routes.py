"""Transfers between stores: REST for integrations, pages for the manager (send, what is
in transit, receive, a printable slip)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from pos_app.auth.deps import ManagerDep, Principal, require_scope
from pos_app.auth.roles import INVENTORY_WRITE, STOCK_READ
from pos_app.catalog.pages import problems
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.inventory.service import stock_levels
from pos_app.inventory.transfers import (
    IN_TRANSIT,
    Transfer,
    TransferConflict,
    TransferIn,
    TransferNotFound,
    TransferRejected,
    TransferStatus,
    chain_stores,
    get_transfer,
    list_transfers,
    receive_transfer,
    send_transfer,
)
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(tags=["inventory"])
InventoryWriter = Annotated[Principal, Depends(require_scope(INVENTORY_WRITE))]
StockReader = Annotated[Principal, Depends(require_scope(STOCK_READ))]
FORM_LINES = 6  # line rows on the send form
PROBLEM_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "No such transfer"},
    409: {"description": "Already received, or addressed to another store"},
    422: {"description": "Same store, unknown store or SKU, more than on hand"},
}


@router.post(
    "/api/v1/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=Transfer,
    responses={422: PROBLEM_RESPONSES[422]},
)
async def post_transfer(
    body: TransferIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: InventoryWriter,
) -> Transfer:
    """Send goods from this store to another of the chain: they leave this store's stock
    once the pipeline applies the event, and stay in transit until received."""
    try:
        transfer = await send_transfer(
            conn, body, settings=settings, user=principal.name, actor=principal.actor
        )
    except TransferRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    return transfer


@router.get("/api/v1/transfers", response_model=list[Transfer])
async def get_transfers(
    conn: TransactionDep,
    settings: SettingsDep,
    _: StockReader,
    transfer_status: Annotated[TransferStatus | None, "in_transit or received"] = None,
) -> list[Transfer]:
    """Transfers from or to this store, newest first; `?transfer_status=in_transit` for
    what is on the way."""
    return await list_transfers(conn, store_id=settings.store_id, status=transfer_status)


@router.post(
    "/api/v1/transfers/{transfer_id}/receive",
    response_model=Transfer,
    responses={404: PROBLEM_RESPONSES[404], 409: PROBLEM_RESPONSES[409]},
)
async def post_receive(
    transfer_id: str,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: InventoryWriter,
) -> Transfer:
    """Record that a transfer to this store arrived: its units join this store's stock
    once the pipeline applies the event. A transfer is received once."""
    try:
        transfer = await receive_transfer(
            conn, transfer_id, settings=settings, user=principal.name, actor=principal.actor
        )
    except TransferNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    except TransferConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    return transfer


# --- the manager's pages -----------------------------------------------------------------


@router.get("/manager/transfers", response_class=HTMLResponse, include_in_schema=False)
async def transfers_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    return await _page(request, conn, settings, manager)


@router.post("/manager/transfers", response_class=HTMLResponse, include_in_schema=False)
async def send_form(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    form = {k: str(v) for k, v in (await request.form()).items()}
    lines = [
        {"sku": form.get(f"sku_{n}", "").strip(), "quantity": form.get(f"qty_{n}", "").strip()}
        for n in range(1, FORM_LINES + 1)
    ]
    try:
        body = TransferIn.model_validate(
            {
                "to_store_id": form.get("to_store_id", ""),
                "note": form.get("note", ""),
                "lines": [line for line in lines if line["sku"] or line["quantity"]],
            }
        )
        transfer = await send_transfer(
            conn, body, settings=settings, user=manager.name, actor=manager.actor
        )
    except ValidationError as error:
        return await _page(request, conn, settings, manager, error=problems(error), form=form)
    except TransferRejected as error:
        return await _page(request, conn, settings, manager, error=str(error), form=form)
    after_commit(conn, relay.wake)
    return RedirectResponse(
        f"/manager/transfers/{transfer.transfer_id}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.post(
    "/manager/transfers/{transfer_id}/receive",
    response_class=HTMLResponse,
    include_in_schema=False,
)
async def receive_form(
    transfer_id: str,
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    try:
        await receive_transfer(
            conn, transfer_id, settings=settings, user=manager.name, actor=manager.actor
        )
    except TransferNotFound as error:
        return await _page(request, conn, settings, manager, error=str(error), code=404)
    except TransferConflict as error:
        return await _page(request, conn, settings, manager, error=str(error), code=409)
    after_commit(conn, relay.wake)
    return RedirectResponse(
        f"/manager/transfers/{transfer_id}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get(
    "/manager/transfers/{transfer_id}", response_class=HTMLResponse, include_in_schema=False
)
async def transfer_slip(
    transfer_id: str,
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> HTMLResponse:
    """The transfer slip, printable: it travels with the goods."""
    try:
        transfer = await get_transfer(conn, transfer_id)
    except TransferNotFound as error:
        return await _page(request, conn, settings, manager, error=str(error), code=404)
    return render_page(
        request,
        "manager_transfer_slip.html",
        {"transfer": transfer, "principal": manager},
        settings=settings,
    )


async def _page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int | None = None,
) -> HTMLResponse:
    here = settings.store_id
    shown = await list_transfers(conn, store_id=here)
    stores = [store for store in await chain_stores(conn, settings=settings) if store != here]
    response = render_page(
        request,
        "manager_transfers.html",
        {
            "here": here,
            "stores": stores,
            "stock": [s for s in await stock_levels(conn, store_id=here) if s.on_hand > 0],
            "incoming": [t for t in shown if t.to_store_id == here and t.status == IN_TRANSIT],
            "outgoing": [t for t in shown if t.from_store_id == here and t.status == IN_TRANSIT],
            "done": [t for t in shown if t.status != IN_TRANSIT][:20],
            "form_lines": FORM_LINES,
            "form": form or {},
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code if code is not None else (422 if error else 200)
    return response
