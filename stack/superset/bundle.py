"""The "Sales" dashboard as a Superset export bundle (a ZIP of YAML files), built from code.

Every object has a fixed UUID derived from the target database's name, so importing the
bundle again updates the same connection, datasets, charts and dashboard instead of adding
new ones; a test database gets its own set and never touches the shop's dashboard.

Datasets are virtual (a SELECT on one table) and named after the database for any but the
shop's: Superset's SQLite metadata keeps a UNIQUE(table_name) that its migrations cannot
drop there, so two physical datasets on tables of the same name could not coexist.

Each chart carries its `params` (what the dashboard draws) and a `query_context` (what
`GET /api/v1/chart/{id}/data/` runs), built from one spec so the two agree.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from sqlalchemy import Date, DateTime, Table, column
from sqlalchemy.dialects import mysql

from pos_app.contract import is_low
from pos_app.db.tables import (
    product_monthly_sales,
    refill_plan,
    sale_payments,
    sales,
    sales_monthly,
    sales_yearly,
)
from pos_app.settings import Settings

VERSION = "1.0.0"  # Superset's import format version
NAMESPACE = uuid.UUID("6f0c2d0e-3b8a-4f6e-9a53-2d1f5c7b9e41")  # fixed: UUIDs must not change
REFRESH_SECONDS = 30
ROOT = "pos_sales"  # the ZIP's top folder; Superset strips it


def object_uuid(database: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{database}/{key}"))


def dashboard_title(settings: Settings, database: str) -> str:
    return "Sales" if database == settings.mysql_database else f"Sales ({database})"


def dashboard_slug(settings: Settings, database: str) -> str:
    return "sales" if database == settings.mysql_database else f"sales-{database}"


def database_file() -> str:
    return "databases/shop_mysql.yaml"


# --- datasets ---------------------------------------------------------------------------


@dataclass
class Dataset:
    key: str
    table: str
    columns: list[tuple[str, str, bool]]  # name, SQL type, is a date
    metrics: dict[str, tuple[str, str]]  # name -> SQL expression, label
    sql: str = ""  # the dataset's query; empty means every column of `table`
    calculated: dict[str, str] = field(default_factory=dict)  # column -> SQL expression
    main_dttm_col: str | None = None
    description: str = ""


def _columns(table: Table) -> list[tuple[str, str, bool]]:
    """A table's columns as tables.py declares them (new columns follow automatically)."""
    return [
        (
            str(col.name),
            str(col.type.compile(dialect=mysql.dialect())),
            isinstance(col.type, Date | DateTime),
        )
        for col in table.columns
    ]


# Metric names differ from column names: a chart whose metric shares a column's name
# confuses Superset's post-processing (the heat map's rank fails).
REVENUE = ("SUM(revenue)", "Revenue")
UNITS = ("SUM(units)", "Units sold")

STOCK_LEVELS_SQL = """\
SELECT s.store_id, s.sku, p.name AS product, p.category, s.stock_quantity, s.total_sold,
       s.on_hand, p.reorder_point
FROM stocks AS s JOIN products AS p ON p.sku = s.sku"""

# Each product under its catalogue name now: the stream job keeps in `product` a name its
# events carried, which a rename in the back office leaves behind (the app's reports join
# the catalogue the same way). Built from the table's columns, so new ones follow.
PRODUCT_MONTHLY_SQL = (
    "SELECT "
    + ", ".join(
        "COALESCE(p.name, m.product) AS product" if col.name == "product" else f"m.{col.name}"
        for col in product_monthly_sales.columns
    )
    + "\nFROM product_monthly_sales AS m LEFT JOIN products AS p ON p.sku = m.sku"
)

# Sale lines less refunds, each booked on its own day: what the app calls revenue (a
# return made today takes its refund off today, as sales_daily does).
NET_SALES_SQL = """SELECT store_id, sale_date, year, month, day, sales AS amount FROM sales
UNION ALL
SELECT store_id, return_date, YEAR(return_date), MONTH(return_date), DAY(return_date),
       -refund FROM sale_returns"""

DATASETS = [
    Dataset(
        "net_sales",
        "net_sales",
        [
            ("store_id", "VARCHAR(40)", False),
            ("sale_date", "DATE", True),
            ("year", "SMALLINT", False),
            ("month", "SMALLINT", False),
            ("day", "SMALLINT", False),
            ("amount", "DECIMAL(14, 2)", False),
        ],
        {"total_sales": ("SUM(amount)", "Total sales")},
        sql=NET_SALES_SQL,
        main_dttm_col="sale_date",
        description="Sale lines less refunds, each on the day it happened.",
    ),
    Dataset(
        "sales",
        "sales",
        _columns(sales),
        {
            "total_sales": ("SUM(sales)", "Total sales"),
            "sum_quantity_sold": ("SUM(quantity_sold)", "Units sold"),
        },
        main_dttm_col="sale_date",
        description="One row per sale line, written by the stream job.",
    ),
    Dataset(
        "sales_monthly",
        "sales_monthly",
        _columns(sales_monthly),
        {"sum_revenue": REVENUE, "sum_units": UNITS},
    ),
    Dataset("sales_yearly", "sales_yearly", _columns(sales_yearly), {"sum_revenue": REVENUE}),
    Dataset(
        "product_monthly_sales",
        "product_monthly_sales",
        _columns(product_monthly_sales),
        {"sum_revenue": REVENUE, "sum_units": UNITS},
        sql=PRODUCT_MONTHLY_SQL,
        calculated={"period": "CONCAT(year, '-', LPAD(month, 2, '0'))"},
        description="Units and revenue per product and month, under the catalogue's name.",
    ),
    Dataset(
        "stock_levels",
        "stock_levels",
        [
            ("store_id", "VARCHAR(40)", False),
            ("sku", "VARCHAR(40)", False),
            ("product", "VARCHAR(200)", False),
            ("category", "VARCHAR(60)", False),
            ("stock_quantity", "INTEGER", False),
            ("total_sold", "INTEGER", False),
            ("on_hand", "INTEGER", False),
            ("reorder_point", "INTEGER", False),
        ],
        {
            "sum_on_hand": ("SUM(on_hand)", "On hand"),
            "sum_total_sold": ("SUM(total_sold)", "Sold to date"),
        },
        sql=STOCK_LEVELS_SQL,
        description="Stock per store and SKU with the product's name and reorder point.",
    ),
    Dataset(
        "refill_plan",
        "refill_plan",
        _columns(refill_plan),
        {"sum_suggested_order": ("SUM(suggested_order)", "To order")},
        main_dttm_col="plan_month",
    ),
    Dataset(
        "sale_payments",
        "sale_payments",
        _columns(sale_payments),
        {"sum_amount": ("SUM(amount)", "Net by method")},
        calculated={"period": "DATE_FORMAT(payment_date, '%Y-%m')"},
        main_dttm_col="payment_date",
        description="Each sale's tenders (+) and each return's refund (-), by method.",
    ),
]
DATASET_BY_KEY = {d.key: d for d in DATASETS}


def dataset_name(settings: Settings, database: str, key: str) -> str:
    return key if database == settings.mysql_database else f"{key} ({database})"


def _dataset_yaml(ds: Dataset, database: str, name: str) -> dict[str, Any]:
    columns = [
        {
            "column_name": name,
            "verbose_name": None,
            "is_dttm": is_date,
            "is_active": True,
            "type": sql_type,
            "groupby": True,
            "filterable": True,
            "expression": None,
            "description": None,
            "python_date_format": None,
            "extra": None,
        }
        for name, sql_type, is_date in ds.columns
    ]
    columns += [
        {
            "column_name": name,
            "verbose_name": None,
            "is_dttm": False,
            "is_active": True,
            "type": "VARCHAR(7)",
            "groupby": True,
            "filterable": True,
            "expression": expression,
            "description": None,
            "python_date_format": None,
            "extra": None,
        }
        for name, expression in ds.calculated.items()
    ]
    return {
        "table_name": name,
        "main_dttm_col": ds.main_dttm_col,
        "description": ds.description or None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": database,
        "sql": ds.sql or f"SELECT * FROM {ds.table}",
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": object_uuid(database, f"dataset/{ds.key}"),
        "metrics": [
            {
                "metric_name": name,
                "verbose_name": label,
                "metric_type": None,
                "expression": expression,
                "description": None,
                "d3format": None,
                "warning_text": None,
                "extra": None,
            }
            for name, (expression, label) in ds.metrics.items()
        ],
        "columns": columns,
        "version": VERSION,
        "database_uuid": object_uuid(database, "database"),
    }


# --- charts -----------------------------------------------------------------------------


@dataclass
class Chart:
    key: str
    name: str
    viz_type: str
    dataset: str
    params: dict[str, Any]
    query: dict[str, Any]  # columns, metrics, orderby, row_limit, where
    width: int = 6
    height: int = 50  # in Superset's grid units
    description: str = ""


def _bar(
    x_axis: str, metric: str, *, horizontal: bool = True, row_limit: int = 100
) -> dict[str, Any]:
    return {
        "x_axis": x_axis,
        "metrics": [metric],
        "groupby": [],
        "x_axis_sort": metric,
        "x_axis_sort_asc": False,
        "orientation": "horizontal" if horizontal else "vertical",
        "row_limit": row_limit,
        "show_legend": False,
        "show_value": True,
        "y_axis_format": ",.2~f",
        "truncateYAxis": False,
    }


def _table(columns: list[str], order_by: list[tuple[str, bool]], row_limit: int) -> dict[str, Any]:
    return {
        "query_mode": "raw",
        "all_columns": columns,
        "order_by_cols": [json.dumps([col, asc]) for col, asc in order_by],
        "row_limit": row_limit,
        "table_timestamp_format": "%Y-%m-%d",
        "show_cell_bars": True,
        "include_search": True,
    }


# The app's low-stock rule, as the dashboard's SQL: "on_hand <= reorder_point".
LOW_STOCK_WHERE = str(is_low(column("on_hand"), column("reorder_point")))

CHARTS = [
    Chart(
        "total_sales",
        "Total Sales",
        "big_number_total",
        "net_sales",
        {
            "metric": "total_sales",
            "header_font_size": 0.4,
            "subheader_font_size": 0.15,
            "y_axis_format": ",.2~f",
            "subheader": "sales less refunds in the chosen year, month or day",
        },
        {"metrics": ["total_sales"]},
        width=3,
    ),
    Chart(
        "sales_by_year",
        "Sales by Year",
        "echarts_timeseries_bar",
        "sales_yearly",
        _bar("year", "sum_revenue", horizontal=False),
        {"columns": ["year"], "metrics": ["sum_revenue"], "orderby": [["year", True]]},
        width=3,
    ),
    Chart(
        "monthly_sales",
        "Monthly Sales (beside last year)",
        "echarts_timeseries_bar",
        "sales_monthly",
        {
            **_bar("month", "sum_revenue", horizontal=False),
            "groupby": ["year"],
            "x_axis_sort": "month",
            "x_axis_sort_asc": True,
            "show_legend": True,
            "show_value": False,
        },
        {
            "columns": ["month", "year"],
            "metrics": ["sum_revenue"],
            "orderby": [["month", True], ["year", True]],
        },
    ),
    Chart(
        "sales_by_product",
        "Total Sales by Products",
        "echarts_timeseries_bar",
        "product_monthly_sales",
        _bar("product", "sum_revenue"),
        {"columns": ["product"], "metrics": ["sum_revenue"], "orderby": [["sum_revenue", False]]},
    ),
    Chart(
        "units_by_product",
        "Total Numbers of Each Product Sold",
        "echarts_timeseries_bar",
        "product_monthly_sales",
        _bar("product", "sum_units"),
        {"columns": ["product"], "metrics": ["sum_units"], "orderby": [["sum_units", False]]},
    ),
    Chart(
        "stock_by_product",
        "Numbers of Product in Stock",
        "echarts_timeseries_bar",
        "stock_levels",
        _bar("product", "sum_on_hand"),
        {"columns": ["product"], "metrics": ["sum_on_hand"], "orderby": [["sum_on_hand", False]]},
        height=90,  # one bar per SKU
    ),
    Chart(
        "low_stock",
        "Low Stock (on hand at or under the reorder point)",
        "table",
        "stock_levels",
        {
            **_table(
                ["sku", "product", "on_hand", "reorder_point", "total_sold"],
                [("on_hand", True)],
                500,
            ),
            "adhoc_filters": [
                {
                    "expressionType": "SQL",
                    "sqlExpression": LOW_STOCK_WHERE,
                    "clause": "WHERE",
                    "subject": None,
                    "operator": None,
                    "comparator": None,
                    "isExtra": False,
                    "isNew": False,
                    "filterOptionName": "low_stock",
                }
            ],
        },
        {
            "columns": ["sku", "product", "on_hand", "reorder_point", "total_sold"],
            "orderby": [["on_hand", True], ["sku", True]],
            "where": LOW_STOCK_WHERE,
            "row_limit": 500,
        },
    ),
    Chart(
        "top_products_by_month",
        "Top Products by Month (revenue)",
        "heatmap_v2",
        "product_monthly_sales",
        {
            "x_axis": "period",
            "groupby": "product",
            "metric": "sum_revenue",
            "sort_x_axis": "alpha_asc",
            "sort_y_axis": "value_desc",
            # Colours across the whole map: per-month ("x") ranking fails in Superset 6.1
            # while there is only one month of sales (pandas returns a frame, not a series).
            "normalize_across": "heatmap",
            "linear_color_scheme": "blue_white_yellow",
            "show_legend": True,
            "show_percentage": True,
            "show_values": False,
            "row_limit": 10000,
            "y_axis_format": ",.2~f",
            "value_bounds": [None, None],
        },
        {
            "columns": ["period", "product"],
            "metrics": ["sum_revenue"],
            "orderby": [["period", True], ["sum_revenue", False]],
            "row_limit": 10000,
        },
    ),
    Chart(
        "refill_plan",
        "Refill Plan (what to order in which month)",
        "table",
        "refill_plan",
        _table(
            [
                "plan_month",
                "sku",
                "product",
                "forecast_units",
                "expected_start_stock",
                "safety_stock",
                "suggested_order",
                "reason",
            ],
            [("plan_month", True), ("suggested_order", False)],
            1000,
        ),
        {
            "columns": [
                "plan_month",
                "sku",
                "product",
                "forecast_units",
                "expected_start_stock",
                "safety_stock",
                "suggested_order",
                "reason",
            ],
            "orderby": [["plan_month", True], ["suggested_order", False], ["sku", True]],
            "row_limit": 1000,
        },
    ),
    Chart(
        "payments_by_method",
        "Payments by Method and Month (net of refunds)",
        "echarts_timeseries_bar",
        "sale_payments",
        {
            **_bar("period", "sum_amount", horizontal=False),
            "groupby": ["method"],
            "x_axis_sort": "period",
            "x_axis_sort_asc": True,
            "show_legend": True,
            "show_value": False,
            "stack": "Stack",
        },
        {
            "columns": ["period", "method"],
            "metrics": ["sum_amount"],
            "orderby": [["period", True], ["method", True]],
        },
        width=12,
    ),
]
CHART_BY_KEY = {c.key: c for c in CHARTS}
# Dashboard rows, left to right (widths add up to 12).
LAYOUT = [
    ["total_sales", "sales_by_year", "monthly_sales"],
    ["sales_by_product", "units_by_product"],
    ["stock_by_product", "low_stock"],
    ["top_products_by_month", "refill_plan"],
    ["payments_by_method"],
]


def _query_object(chart: Chart) -> dict[str, Any]:
    q = chart.query
    return {
        "columns": q.get("columns", []),
        "metrics": q.get("metrics", []),
        "orderby": q.get("orderby", []),
        "row_limit": q.get("row_limit", 1000),
        "filters": [],
        "extras": {"having": "", "where": q.get("where", "")},
        "applied_time_extras": {},
        "annotation_layers": [],
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }


def _chart_yaml(chart: Chart, database: str) -> dict[str, Any]:
    params = {
        "viz_type": chart.viz_type,
        "adhoc_filters": [],
        "time_range": "No filter",
        "extra_form_data": {},
        **chart.params,
    }
    query_context = {
        # Superset puts the imported dataset's id here.
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [_query_object(chart)],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.name,
        "description": chart.description or None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": params,
        "query_context": json.dumps(query_context),
        "cache_timeout": None,
        "uuid": object_uuid(database, f"chart/{chart.key}"),
        "version": VERSION,
        "dataset_uuid": object_uuid(database, f"dataset/{chart.dataset}"),
    }


# --- dashboard --------------------------------------------------------------------------


def _chart_number(key: str) -> int:
    """A chart's id inside the bundle; Superset maps it to the real id on import."""
    return [c.key for c in CHARTS].index(key) + 1


def _position(database: str, title: str) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}},
        "GRID_ID": {
            "type": "GRID",
            "id": "GRID_ID",
            "children": [],
            "parents": ["ROOT_ID"],
        },
    }
    for n, row in enumerate(LAYOUT, start=1):
        row_id = f"ROW-{n}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        widths = [CHART_BY_KEY[key].width for key in row]
        scale = 12 / sum(widths)
        for key, width in zip(row, widths, strict=True):
            chart_id = f"CHART-{key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "chartId": _chart_number(key),
                    "uuid": object_uuid(database, f"chart/{key}"),
                    "width": round(width * scale),
                    "height": CHART_BY_KEY[key].height,
                    "sliceName": CHART_BY_KEY[key].name,
                },
            }
    return position


def _native_filter(
    database: str, name: str, column: str, dataset: str, applies_to: set[str]
) -> dict[str, Any]:
    """A single-choice filter on `column`, for the charts in `applies_to` only."""
    return {
        "id": f"NATIVE_FILTER-{column}",
        "name": name,
        "type": "NATIVE_FILTER",
        "filterType": "filter_select",
        "targets": [
            {"column": {"name": column}, "datasetUuid": object_uuid(database, f"dataset/{dataset}")}
        ],
        "controlValues": {
            "multiSelect": False,
            "enableEmptyFilter": False,
            "defaultToFirstItem": False,
            "inverseSelection": False,
            "searchAllOptions": False,
        },
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {
            "rootPath": ["ROOT_ID"],
            "excluded": [_chart_number(c.key) for c in CHARTS if c.key not in applies_to],
        },
        "description": "",
    }


def _dashboard_yaml(settings: Settings, database: str) -> dict[str, Any]:
    title = dashboard_title(settings, database)
    by_period = {
        "total_sales",
        "sales_by_product",
        "units_by_product",
        "top_products_by_month",
    }
    everything = {c.key for c in CHARTS}
    metadata = {
        # Seconds between automatic refreshes of every chart (issue 9).
        "refresh_frequency": REFRESH_SECONDS,
        "timed_refresh_immune_slices": [],
        "expanded_slices": {},
        "default_filters": "{}",
        "color_scheme": "supersetColors",
        "label_colors": {},
        "shared_label_colors": [],
        "cross_filters_enabled": False,
        "native_filter_configuration": [
            _native_filter(database, "Store", "store_id", "sales", everything),
            _native_filter(
                database, "Year", "year", "sales", by_period | {"monthly_sales", "sales_by_year"}
            ),
            _native_filter(database, "Month", "month", "sales", by_period),
            _native_filter(database, "Day", "day", "sales", {"total_sales"}),
        ],
    }
    return {
        "dashboard_title": title,
        "description": None,
        "css": "",
        "slug": dashboard_slug(settings, database),
        "uuid": object_uuid(database, "dashboard"),
        "position": _position(database, title),
        "metadata": metadata,
        "version": VERSION,
        "published": True,
    }


def _database_yaml(settings: Settings, database: str) -> dict[str, Any]:
    # The password is masked here and sent beside the bundle (`passwords`), never stored in it.
    uri = (
        f"mysql+pymysql://{settings.mysql_report_user}:XXXXXXXXXX@{settings.mysql_host}:"
        f"{settings.mysql_port}/{database}?charset=utf8mb4"
    )
    return {
        "database_name": f"Shop MySQL ({database})",
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {"allows_virtual_table_explore": True},
        "uuid": object_uuid(database, "database"),
        "version": VERSION,
    }


def build(settings: Settings, database: str | None = None) -> bytes:
    """The bundle as ZIP bytes, for `/api/v1/assets/import/`."""
    database = database or settings.mysql_database
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {
            "version": VERSION,
            "type": "assets",
            "timestamp": datetime.now(UTC).isoformat(),
        },
        database_file(): _database_yaml(settings, database),
    }
    for ds in DATASETS:
        name = dataset_name(settings, database, ds.key)
        files[f"datasets/{ds.key}.yaml"] = _dataset_yaml(ds, database, name)
    for chart in CHARTS:
        files[f"charts/{chart.key}.yaml"] = _chart_yaml(chart, database)
    files["dashboards/sales.yaml"] = _dashboard_yaml(settings, database)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
            bundle.writestr(f"{ROOT}/{name}", text)
    return out.getvalue()
