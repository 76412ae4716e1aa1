"""The stream job's catalogue lookup: read once, then asked only about new SKUs."""

from __future__ import annotations

from typing import Any

from stream_jobs.catalogue import KnownSkus, reason


def test_the_catalogue_is_read_once_then_only_new_skus_are_asked_about() -> None:
    catalogue = {"A", "B"}
    asked: list[set[str] | None] = []

    def find(wanted: set[str] | None) -> set[str]:
        asked.append(wanted)
        return set(catalogue) if wanted is None else wanted & catalogue

    known = KnownSkus(find)
    assert known.unknown(["A", "B"]) == set()
    assert known.unknown(["A", "C"]) == {"C"}
    catalogue.add("C")  # a product added while the job runs
    assert known.unknown(["A", "C"]) == set()
    assert known.unknown(["B", "C"]) == set()
    assert asked == [None, {"C"}, {"C"}]


def check(label: str, sku: str | None, problem: str | None = None) -> dict[str, Any]:
    return {"label": label, "sku": sku, "problem": problem}


def test_the_first_bad_line_gives_the_reason_whatever_its_problem() -> None:
    record = {
        "reason": None,
        "line_checks": [
            check("line 1", "A"),
            check("line 2", "NOPE"),
            check("line 3", "A", "line 3: quantity must be a positive whole number"),
        ],
    }
    assert reason(record, unknown={"NOPE"}) == "line 2: unknown SKU NOPE"
    assert reason(record, unknown=set()) == "line 3: quantity must be a positive whole number"
    assert reason({**record, "reason": "not valid JSON"}, unknown={"NOPE"}) == "not valid JSON"
    assert reason({"reason": None, "line_checks": [check("line 1", "A")]}, unknown=set()) is None
