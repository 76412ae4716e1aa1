"""The till's reports, from what the stream job books: money by payment method
(`GET /api/v1/reports/payments`) and commercial tax by month (`GET /api/v1/reports/tax`),
JSON or CSV, and the manager's pages for both."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from pos_app.auth.deps import ManagerDep
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, OTHER_STORE, problems
from pos_app.reports.export import CSV_RESPONSE, csv_response, wants_csv
from pos_app.reports.payments import PaymentsReport, payments_report
from pos_app.reports.routes import DateFrom, DateTo, ReportsReader, Store, check_range
from pos_app.reports.service import Granularity
from pos_app.reports.tax import TaxReport, tax_report
from pos_app.shop_tax import with_shop_tax
from pos_app.templating import render_page

router = APIRouter(responses=problems(AUTHENTICATED, 422))


@router.get(
    "/api/v1/reports/payments",
    response_model=PaymentsReport,
    responses={**CSV_RESPONSE, **problems(OTHER_STORE)},
    tags=["reports"],
)
async def get_payments(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    granularity: Granularity = "day",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    store: Store = None,
) -> PaymentsReport | Response:
    """Per day, month or year and payment method: `paid` (taken that way), `refunded`
    (paid back that way) and `amount` (the net), over the days from..to (inclusive;
    all when absent), as the pipeline booked them. `Accept: text/csv` for CSV."""
    check_range(date_from, date_to)
    report = await payments_report(
        conn,
        granularity=granularity,
        start=date_from,
        end=date_to,
        store=store and who.store(store, settings),
        among=who.stores,
    )
    if wants_csv(request):
        return csv_response(
            ("period", "start", "method", "paid", "refunded", "amount", "payments"),
            (
                (r.period, r.start, r.method, r.paid, r.refunded, r.amount, r.payments)
                for r in report.rows
            ),
            f"payments-by-{granularity}.csv",
        )
    return report


@router.get("/manager/payments", response_class=HTMLResponse, include_in_schema=False)
async def payments_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    granularity: Granularity = "day",
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> HTMLResponse:
    check_range(date_from, date_to)
    report = await payments_report(
        conn, granularity=granularity, start=date_from, end=date_to, store=settings.store_id
    )
    return render_page(
        request,
        "manager_payments.html",
        {"report": report, "principal": manager},
        settings=settings,
    )


@router.get(
    "/api/v1/reports/tax",
    response_model=TaxReport,
    responses={**CSV_RESPONSE, **problems(OTHER_STORE)},
    tags=["reports"],
)
async def get_tax(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    store: Store = None,
) -> TaxReport | Response:
    """Commercial tax per month and mode over the days from..to (inclusive): what the
    lines charged, the tax, the net, taxed receipts and refunds (returns deducted), as
    the pipeline booked it. `Accept: text/csv` for CSV."""
    check_range(date_from, date_to)
    report = await tax_report(
        conn,
        start=date_from,
        end=date_to,
        store=store and who.store(store, settings),
        among=who.stores,
    )
    if wants_csv(request):
        return csv_response(
            ("period", "mode", "rate", "base", "tax", "net", "receipts", "refunds"),
            (
                (m.period, m.mode, m.rate, m.base, m.tax, m.net, m.receipts, m.refunds)
                for m in report.months
            ),
            "tax-by-month.csv",
        )
    return report


@router.get("/manager/tax", response_class=HTMLResponse, include_in_schema=False)
async def tax_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> HTMLResponse:
    check_range(date_from, date_to)
    report = await tax_report(conn, start=date_from, end=date_to, store=settings.store_id)
    shop = await with_shop_tax(conn, settings)  # the setting as an admin last set it
    return render_page(
        request, "manager_tax.html", {"report": report, "principal": manager}, settings=shop
    )
