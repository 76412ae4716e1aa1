"""Bar charts as plain geometry for server-rendered SVG: no chart library, no script
(the pages' CSP allows none), and they print and render on any shop device."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float
    series: int  # 0 = this period, 1 = the comparison (e.g. last year)


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[str, float]]  # category label and its x (or y) position
    maximum: Decimal


def grouped_columns(
    title: str,
    categories: Sequence[str],
    series: Sequence[Sequence[Decimal]],
    *,
    width: int = 720,
    height: int = 220,
    label_space: int = 24,
) -> BarChart:
    """Vertical bars: one group per category, one bar per series in each group."""
    maximum = max((v for values in series for v in values), default=Decimal(0))
    plot_height = height - label_space
    group = width / max(len(categories), 1)
    bar_width = group * 0.8 / max(len(series), 1)
    bars = []
    for s, values in enumerate(series):
        for i, value in enumerate(values):
            bar_height = float(value / maximum) * (plot_height - 4) if maximum else 0.0
            bars.append(
                Bar(
                    label=categories[i],
                    value=value,
                    x=i * group + group * 0.1 + s * bar_width,
                    y=plot_height - bar_height,
                    width=bar_width,
                    height=bar_height,
                    series=s,
                )
            )
    labels = [(name, i * group + group / 2) for i, name in enumerate(categories)]
    return BarChart(title, width, height, bars, labels, maximum)


def horizontal_bars(
    title: str,
    items: Sequence[tuple[str, Decimal]],
    *,
    width: int = 720,
    row: int = 22,
    label_width: int = 260,
    value_width: int = 110,
) -> BarChart:
    """One horizontal bar per item, longest first as given."""
    maximum = max((value for _, value in items), default=Decimal(0))
    plot = width - label_width - value_width
    bars = [
        Bar(
            label=name,
            value=value,
            x=label_width,
            y=i * row + 3,
            width=float(value / maximum) * plot if maximum else 0.0,
            height=row - 6,
            series=0,
        )
        for i, (name, value) in enumerate(items)
    ]
    labels = [(name, i * row + row / 2) for i, (name, _) in enumerate(items)]
    return BarChart(title, width, max(len(items), 1) * row, bars, labels, maximum)


# --- Heat map ---------------------------------------------------------------------------

HEAT_LEVELS = 6  # cell shades h0 (nothing sold) .. h5 (the busiest cell); colours in CSS


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    level: int
    value: Decimal
    label: str  # compact, with the currency: "1.2M Ks"
    title: str  # the hover text: product, month, exact amount


@dataclass(frozen=True)
class HeatMap:
    title: str
    width: int
    height: int
    cell_width: int
    cell_height: int
    left: int  # room for the row labels
    top: int  # room for the column labels
    rows: list[tuple[str, float]]  # row label and the y of its middle
    columns: list[tuple[str, float]]  # column label and the x of its middle
    cells: list[HeatCell]
    maximum: Decimal


def compact_money(value: Decimal, currency: str = "Ks") -> str:
    """1234567 -> '1.2M Ks', 45000 -> '45K Ks', 980 -> '980 Ks': short enough for a cell."""
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(1000), "K")):
        if abs(value) >= size:
            scaled = value / size
            text = f"{scaled:.1f}" if scaled < 100 else f"{scaled:.0f}"
            return f"{text.removesuffix('.0')}{suffix} {currency}"
    return f"{value:.0f} {currency}"


def heat_map(
    title: str,
    rows: Sequence[tuple[str, str]],  # (key, label)
    columns: Sequence[str],
    values: dict[str, dict[int, Decimal]],  # row key -> column index (1-based) -> value
    *,
    money: Callable[[Decimal], str],
    cell_width: int = 62,
    cell_height: int = 26,
    left: int = 230,
    top: int = 24,
) -> HeatMap:
    """Rows x columns of shaded cells; the shade is the value's share of the largest cell,
    in HEAT_LEVELS steps (0 only when nothing was sold)."""
    maximum = max((v for row in values.values() for v in row.values()), default=Decimal(0))
    cells = []
    row_labels = []
    for r, (key, label) in enumerate(rows):
        y = top + r * cell_height
        row_labels.append((label, y + cell_height / 2))
        for c, column in enumerate(columns):
            value = values.get(key, {}).get(c + 1, Decimal(0))
            level = 0
            if value > 0 and maximum > 0:
                level = max(1, min(HEAT_LEVELS - 1, math.ceil(value / maximum * (HEAT_LEVELS - 1))))
            cells.append(
                HeatCell(
                    x=left + c * cell_width,
                    y=y,
                    level=level,
                    value=value,
                    label=compact_money(value) if value else "-",
                    title=f"{label}, {column}: {money(value)}",
                )
            )
    column_labels = [
        (name, left + c * cell_width + cell_width / 2) for c, name in enumerate(columns)
    ]
    return HeatMap(
        title=title,
        width=left + len(columns) * cell_width,
        height=top + max(len(rows), 1) * cell_height,
        cell_width=cell_width,
        cell_height=cell_height,
        left=left,
        top=top,
        rows=row_labels,
        columns=column_labels,
        cells=cells,
        maximum=maximum,
    )
