from __future__ import annotations

from decimal import Decimal

from pos_app.reports.charts import grouped_columns, horizontal_bars


def test_the_tallest_column_fills_the_plot_and_others_scale() -> None:
    chart = grouped_columns(
        "t",
        ["a", "b"],
        [[Decimal(10), Decimal(5)], [Decimal(0), Decimal(20)]],
        height=124,
        label_space=24,
    )
    heights = {(bar.label, bar.series): bar.height for bar in chart.bars}
    assert heights[("b", 1)] == 96.0  # the maximum: plot height 100 less a 4 px margin
    assert heights[("a", 0)] == 48.0
    assert heights[("a", 1)] == 0.0
    assert chart.maximum == Decimal(20)
    # Series sit side by side within a group, never on top of each other.
    a0, a1 = (next(b for b in chart.bars if (b.label, b.series) == k) for k in [("a", 0), ("a", 1)])
    assert a1.x == a0.x + a0.width


def test_horizontal_bars_and_an_empty_chart() -> None:
    chart = horizontal_bars(
        "t", [("x", Decimal(3)), ("y", Decimal(1))], width=500, label_width=100, value_width=100
    )
    assert [round(bar.width) for bar in chart.bars] == [300, 100]
    assert horizontal_bars("t", []).bars == []
    assert grouped_columns("t", ["a"], [[Decimal(0)]]).bars[0].height == 0.0
