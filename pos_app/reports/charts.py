"""Bar charts as plain geometry for server-rendered SVG: no chart library, no script
(the pages' CSP allows none), and they print and render on any shop device."""

from __future__ import annotations

from collections.abc import Sequence
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
