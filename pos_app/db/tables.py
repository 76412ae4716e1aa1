"""The MySQL tables, as SQLAlchemy Core metadata shared by the app, the stream job and
the migrations. The stream job is the only writer of `sales`, `stocks`' sold figures,
`processed_events` and `stream_batches`; the app writes the catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DECIMAL,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    text,
)
from sqlalchemy.dialects.mysql import DATETIME, MEDIUMTEXT

metadata = MetaData()

MONEY: DECIMAL[Decimal] = DECIMAL(
    12, 2
)  # unit prices: kyat are whole, the Kaggle dollars have cents
AMOUNT: DECIMAL[Decimal] = DECIMAL(14, 2)  # line and period totals
SKU = String(40)
STORE = String(40)
NOW = text("CURRENT_TIMESTAMP(3)")


def _timestamp(name: str) -> Column[datetime]:
    return Column(name, DATETIME(fsp=3), nullable=False, server_default=NOW)


products = Table(
    "products",
    metadata,
    Column("sku", SKU, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_my", String(200)),
    Column("category", String(60), nullable=False),
    Column("size", String(20)),
    Column("colour", String(40)),
    Column("unit_price", MONEY, nullable=False),
    Column("reorder_point", Integer, nullable=False, server_default="0"),
    Column("opening_stock", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("barcode", String(32)),  # EAN-13 the scanner types; unique when set
    Column("style", String(120)),  # the family a size and colour belong to (migration 0020)
    Column("cost_price", MONEY),  # what the shop pays; null when not known
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ux_products_barcode", "barcode", unique=True),
)

# The stores a product is sold at: the counter, its search and a sale of a store see only
# these (a store's imported history must not put its products on another store's counter).
product_stores = Table(
    "product_stores",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("sku", SKU, ForeignKey("products.sku"), primary_key=True),
)

# Stock per store and SKU, kept by the stream job. stock_quantity is the opening stock;
# on_hand = stock_quantity + total_received - total_sold + total_returned + total_adjusted
#           + total_transferred (transfers in less transfers out, migration 0050).
stocks = Table(
    "stocks",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("sku", SKU, ForeignKey("products.sku"), primary_key=True),
    Column("stock_quantity", Integer, nullable=False),
    Column("total_sold", Integer, nullable=False, server_default="0"),
    Column("total_received", Integer, nullable=False, server_default="0"),
    Column("total_returned", Integer, nullable=False, server_default="0"),
    Column("total_adjusted", Integer, nullable=False, server_default="0"),
    Column("on_hand", Integer, nullable=False),
    Column("total_transferred", Integer, nullable=False, server_default="0"),
    _timestamp("updated_at"),
)

# One row per sale line, with the seed study's columns plus ids, time, store, register.
sales = Table(
    "sales",
    metadata,
    Column("line_id", String(64), primary_key=True),  # "<sale_id>:<line_no>"
    Column("sale_id", String(40), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("line_no", SmallInteger, nullable=False),
    Column("store_id", STORE, nullable=False),
    Column("register_id", String(40), nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("sku", SKU, nullable=False),
    Column("product", String(200), nullable=False),
    Column("quantity_sold", Integer, nullable=False),
    Column("price_each", MONEY, nullable=False),
    Column("sales", AMOUNT, nullable=False),
    Column("sale_date", Date, nullable=False),  # shop-local date, as the event states it
    Column("sale_time", Time, nullable=False),
    Column("day", SmallInteger, nullable=False),
    Column("month", SmallInteger, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    _timestamp("processed_at"),
    # The product's cost price when sold (migration 0051); null: not known.
    Column("unit_cost", MONEY),
    Index("ix_sales_sale_id", "sale_id"),
    Index("ix_sales_year_month", "year", "month"),
    Index("ix_sales_sku", "sku"),
    Index("ix_sales_store_date", "store_id", "sale_date"),
)

# Exactly-once: an event is applied in the same transaction that records its id here.
# One row per returned line (`sale.returned` events), booked on the day of the return.
sale_returns = Table(
    "sale_returns",
    metadata,
    Column("line_id", String(64), primary_key=True),  # "<return_id>:<line_no>"
    Column("return_id", String(40), nullable=False),
    Column("sale_id", String(40), nullable=False),  # the sale the goods came from
    Column("event_id", String(36), nullable=False),
    Column("line_no", SmallInteger, nullable=False),  # the line of the original sale
    Column("store_id", STORE, nullable=False),
    Column("register_id", String(40), nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("sku", SKU, nullable=False),
    Column("product", String(200), nullable=False),
    Column("quantity_returned", Integer, nullable=False),
    Column("price_each", MONEY, nullable=False),
    Column("refund", AMOUNT, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("return_date", Date, nullable=False),
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    Index("ix_sale_returns_sale_id", "sale_id"),
)

# Each sale's tenders and each return's refund (stream_jobs/payments.py), one row each;
# amount is signed: + came in, - was refunded, so a sum by method is that method's net.
sale_payments = Table(
    "sale_payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),  # "<sale or return id>:<n>"
    Column("document_id", String(40), nullable=False),
    Column("sale_id", String(40), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("kind", String(10), nullable=False),  # sale | refund
    Column("store_id", STORE, nullable=False),
    Column("register_id", String(40), nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("method", String(20), nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("reference", String(64)),  # the wallet's transaction id, when given
    Column("payment_date", Date, nullable=False),  # shop-local
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    Index("ix_sale_payments_sale_id", "sale_id"),
    Index("ix_sale_payments_store_date", "store_id", "payment_date"),
    Index("ix_sale_payments_register_time", "register_id", "occurred_at"),
)

# One row per sale and per return (stream_jobs/taxes.py): its totals, discount and
# commercial tax, recomputed by the stream job with pos_app/tax.py; a return's negative.
# The Z report and the tax report read it.
sale_totals = Table(
    "sale_totals",
    metadata,
    Column("document_id", String(40), primary_key=True),  # the sale or return id
    Column("sale_id", String(40), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("kind", String(10), nullable=False),  # sale | refund
    Column("store_id", STORE, nullable=False),
    Column("register_id", String(40), nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("items", Integer, nullable=False),
    Column("discount", AMOUNT, nullable=False),  # line discounts given
    Column("base", AMOUNT, nullable=False),  # what the lines charge
    Column("tax_mode", String(10), nullable=False),  # none | included | added
    Column("tax_rate", DECIMAL(5, 2), nullable=False),  # percent
    Column("tax", AMOUNT, nullable=False),
    Column("net", AMOUNT, nullable=False),  # base less tax included in it
    Column("total", AMOUNT, nullable=False),  # what the customer paid (or got back)
    Column("doc_date", Date, nullable=False),  # shop-local
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    Index("ix_sale_totals_store_date", "store_id", "doc_date"),
    Index("ix_sale_totals_register_time", "register_id", "occurred_at"),
)

# Goods received and stock adjustments (`stock.received`, `stock.adjusted`), one row per
# line; quantity is signed (an adjustment may take stock away).
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("line_id", String(64), primary_key=True),  # "<receipt or adjustment id>:<line_no>"
    Column("document_id", String(40), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),  # received|adjusted|transfer_out|transfer_in
    Column("store_id", STORE, nullable=False),
    Column("sku", SKU, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("reason", String(200), nullable=False),  # the adjustment's reason or the supplier
    Column("recorded_by", String(60), nullable=False),
    Column("movement_date", Date, nullable=False),
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    Index("ix_stock_movements_store_sku", "store_id", "sku"),
)

# A SKU crossing its reorder point (on hand falling to it or below), recorded once per
# crossing by the stream job in the transaction that moved the stock.
stock_alerts = Table(
    "stock_alerts",
    metadata,
    Column("alert_id", BigInteger, primary_key=True, autoincrement=True),
    Column("store_id", STORE, nullable=False),
    Column("sku", SKU, nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reorder_point", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),  # the event that crossed it
    _timestamp("raised_at"),
    Column("acknowledged_at", DATETIME(fsp=3)),
    Column("acknowledged_by", String(60)),
    Index("ix_stock_alerts_open", "acknowledged_at", "store_id"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(40), nullable=False),
    # The event's document: the sale, return, receipt or adjustment id.
    Column("sale_id", String(40), nullable=False),
    Column("batch_id", Integer, nullable=False),
    _timestamp("processed_at"),
    Index("ix_processed_events_document", "sale_id"),
)

# The read model of sales documents, written by the stream job with the event it applies:
# each sale as recorded (lines, prices, discounts, payments, totals, cashier, time) and
# each return from it, as the JSON the counter sent (keys sorted, no spaces, so a rebuild
# from the raw events writes the same text). Receipts and returns read it; the outbox
# answers only for a document the pipeline has not stored yet.
sale_documents = Table(
    "sale_documents",
    metadata,
    Column("event_type", String(40), primary_key=True),  # sale.completed | sale.returned
    Column("document_id", String(40), primary_key=True),  # the sale or return id
    Column("sale_id", String(40), nullable=False),  # the sale (a return's original sale)
    Column("event_id", String(36), nullable=False),
    Column("store_id", STORE, nullable=False),
    Column("local_date", Date, nullable=False),  # shop-local, as the event states it
    Column("occurred_at", DATETIME(fsp=3), nullable=False),  # UTC
    Column("document", MEDIUMTEXT, nullable=False),
    Index("ix_sale_documents_sale_id", "sale_id"),
    Index("ix_sale_documents_store_date", "store_id", "local_date"),
)

# One row per micro-batch the stream job committed: for progress and lag reports.
stream_batches = Table(
    "stream_batches",
    metadata,
    Column("query_name", String(60), primary_key=True),
    Column("batch_id", Integer, primary_key=True),
    Column("events_applied", Integer, nullable=False),
    Column("events_duplicate", Integer, nullable=False),
    Column("events_rejected", Integer, nullable=False),
    Column("lines_applied", Integer, nullable=False),
    _timestamp("committed_at"),
)

# Transactional outbox: a sale is stored here in the transaction that answers the
# cashier; the relay publishes it to Kafka when Kafka is there (pos_app/events/relay.py).
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),  # publish order
    Column("event_id", String(36), nullable=False, unique=True),
    # The sale, return, receipt or adjustment id: unique, so no two documents share one
    # (null on rows written before migration 0009).
    Column("document_id", String(40)),
    Column("topic", String(120), nullable=False),
    Column("event_key", String(64), nullable=False),
    Column("payload", MEDIUMTEXT, nullable=False),
    _timestamp("created_at"),
    Column("published_at", DATETIME(fsp=3)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(255)),
    Index("ix_outbox_unpublished", "published_at", "id"),
    Index("ix_outbox_key", "event_key"),  # a sale's events, for returns
    Index("uq_outbox_document", "document_id", unique=True),
)

# Idempotency-Key of POST /api/v1/sales: the same key and body give back the first sale.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client", String(80), primary_key=True),  # who sent it: keys are per client
    Column("idempotency_key", String(100), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("sale_id", String(40), nullable=False),
    Column("response", Text, nullable=False),
    _timestamp("created_at"),
)


# Sales by period and by product and month, per store, kept by the stream job in the
# transaction that applies the lines (so they are exactly once too). "All stores" is a
# sum over store_id. sales_count counts sales (events), lines_count their lines.
def _period_measures() -> list[Column[Any]]:
    return [
        Column("revenue", DECIMAL(16, 2), nullable=False),
        Column("units", Integer, nullable=False),
        Column("sales_count", Integer, nullable=False),
        Column("lines_count", Integer, nullable=False),
        # Migration 0051: the cost of the lines sold with a known cost price, and their
        # revenue; gross margin = costed_revenue - cost.
        Column("cost", DECIMAL(16, 2), nullable=False, server_default="0"),
        Column("costed_revenue", DECIMAL(16, 2), nullable=False, server_default="0"),
    ]


sales_daily = Table(
    "sales_daily",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("sale_date", Date, primary_key=True),
    *_period_measures(),
)

sales_monthly = Table(
    "sales_monthly",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("month", SmallInteger, primary_key=True),
    *_period_measures(),
)

sales_yearly = Table(
    "sales_yearly",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    *_period_measures(),
)

product_monthly_sales = Table(
    "product_monthly_sales",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("month", SmallInteger, primary_key=True),
    Column("sku", SKU, primary_key=True),
    Column("product", String(200), nullable=False),
    *_period_measures(),
    Index("ix_product_monthly_sku", "sku"),
)

# The refill plan: written by the planner (forecast from the raw sales in MongoDB), read by
# the manager's page, the REST API and Superset. One row per store, month and product.
refill_plan = Table(
    "refill_plan",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("plan_month", Date, primary_key=True),  # first day of the month
    Column("sku", SKU, primary_key=True),
    Column("product", String(200), nullable=False),
    Column("forecast_units", Integer, nullable=False),
    Column("expected_start_stock", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("suggested_order", Integer, nullable=False),
    Column("reason", String(255), nullable=False),
    Column("computed_at", DATETIME(fsp=3), nullable=False),
)

# The counter's carts: one open cart per cashier, any number held. Lines are a JSON list
# of {sku, quantity, discount_percent, discount_reason}; prices are never stored here,
# the sale is priced from the catalog when it is paid.
carts = Table(
    "carts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("store_id", STORE, nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("status", String(10), nullable=False),  # open | held
    Column("lines", Text, nullable=False),
    Column("discount", Text),  # JSON of the whole-cart discount (NULL: none)
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Index("ix_carts_cashier_status", "store_id", "cashier", "status"),
)

# Settings an admin changes while the shop runs (the environment gives their defaults):
# the commercial-tax mode and rate (pos_app/till/tax_setting.py).
shop_settings = Table(
    "shop_settings",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("updated_by", String(80), nullable=False),
    _timestamp("updated_at"),
)

# One row per store: when its refill plan was computed, over what history, and the
# backtest of the method beside the same-month-last-year baseline (NULL: too little history).
refill_plan_runs = Table(
    "refill_plan_runs",
    metadata,
    Column("store_id", STORE, primary_key=True),
    Column("months", SmallInteger, nullable=False),
    Column("method", String(120), nullable=False),
    Column("history_from", Date),  # first day of the first month with sales
    Column("history_to", Date),  # first day of the last whole month used
    Column("backtest_months", SmallInteger, nullable=False),
    Column("backtest_points", Integer, nullable=False),
    Column("backtest_units", Integer, nullable=False),
    Column("mae", DECIMAL(12, 2)),
    Column("wape", DECIMAL(10, 4)),
    Column("baseline_mae", DECIMAL(12, 2)),
    Column("baseline_wape", DECIMAL(10, 4)),
    Column("computed_at", DATETIME(fsp=3), nullable=False),
)


# Every change of a product's selling price (migration 0020): sales keep the price they
# were rung up at in `sales.price_each`; this says when the catalog's price changed.
price_history = Table(
    "price_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("sku", SKU, nullable=False),
    Column("old_price", MONEY),  # null: the product's first price
    Column("new_price", MONEY, nullable=False),
    Column("changed_by", String(80), nullable=False),
    _timestamp("changed_at"),
    Index("ix_price_history_sku", "sku", "id"),
)

# A catalogue upload checked and shown to the manager, applied only when confirmed.
catalog_import_drafts = Table(
    "catalog_import_drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("uploaded_by", String(80), nullable=False),
    Column("rows", MEDIUMTEXT, nullable=False),  # the good rows, as JSON
    _timestamp("created_at"),
    Column("applied_at", DATETIME(fsp=3)),
)

# Suppliers and purchase orders (migration 0021). A line's `received` counts the units
# recorded against it (each receipt is a `stock.received` event naming the order).
suppliers = Table(
    "suppliers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("phone", String(40)),
    Column("viber", String(40)),
    Column("lead_time_days", Integer, nullable=False, server_default="7"),
    Column("notes", String(500)),
    _timestamp("created_at"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("po_id", String(40), primary_key=True),
    Column("supplier_id", Integer, ForeignKey("suppliers.id"), nullable=False),
    Column("store_id", STORE, nullable=False),
    Column(
        "status", String(20), nullable=False
    ),  # draft|ordered|partly_received|received|cancelled
    Column("created_by", String(80), nullable=False),
    _timestamp("created_at"),
    Column("ordered_at", DATETIME(fsp=3)),
    Column("expected_on", Date),  # ordered + the supplier's lead time
    Index("ix_purchase_orders_store_status", "store_id", "status"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("po_id", String(40), ForeignKey("purchase_orders.po_id"), primary_key=True),
    Column("line_no", SmallInteger, primary_key=True),
    Column("sku", SKU, ForeignKey("products.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_cost", MONEY, nullable=False),
    Column("received", Integer, nullable=False, server_default="0"),
)


# Transfers between the chain's stores (migration 0050): written by the app with the
# transfer's events (sent, then received), so "in transit" is a status here; the stock
# itself moves only as the stream job applies the events.
transfers = Table(
    "transfers",
    metadata,
    Column("transfer_id", String(40), primary_key=True),
    Column("from_store_id", STORE, nullable=False),
    Column("to_store_id", STORE, nullable=False),
    Column("status", String(20), nullable=False),  # in_transit | received
    Column("note", String(200), nullable=False, server_default=""),
    Column("sent_by", String(80), nullable=False),
    Column("sent_at", DATETIME(fsp=3), nullable=False),
    Column("received_by", String(80)),
    Column("received_at", DATETIME(fsp=3)),
    Index("ix_transfers_to_status", "to_store_id", "status"),
    Index("ix_transfers_from_status", "from_store_id", "status"),
)

transfer_lines = Table(
    "transfer_lines",
    metadata,
    Column("transfer_id", String(40), ForeignKey("transfers.transfer_id"), primary_key=True),
    Column("line_no", SmallInteger, primary_key=True),
    Column("sku", SKU, ForeignKey("products.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
)
