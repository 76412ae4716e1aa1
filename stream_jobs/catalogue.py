"""Which SKUs exist, as the stream job asks it: a set kept in the driver that starts from
the whole catalogue once and afterwards asks MySQL only about SKUs it has not seen.

Products are never deleted, so a SKU once known stays known; a SKU added to the
catalogue after the job started is found the first time an event names it. The check
itself (`reason`) is the last step of `transform.classify`: its lines' other problems
come from Spark, the unknown SKU from here, in line order, so the first bad line wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

FindSkus = Callable[[set[str] | None], set[str]]  # None: the whole catalogue


class KnownSkus:
    def __init__(self, find: FindSkus) -> None:
        self._find = find
        self._known: set[str] | None = None

    def unknown(self, skus: Iterable[str]) -> set[str]:
        """Of these SKUs, those not in the catalogue (asking MySQL about new ones only)."""
        if self._known is None:
            self._known = self._find(None)
        unseen = set(skus) - self._known
        if unseen:
            self._known |= self._find(unseen)
        return unseen - self._known


def skus_named(records: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        check["sku"]
        for record in records
        if record["reason"] is None
        for check in record["line_checks"] or ()
        if check["sku"] is not None
    }


def reason(record: Mapping[str, Any], unknown: set[str]) -> str | None:
    """Why a classified record is rejected, or None: the event's own problem if it has
    one, else its first line with a problem or an unknown SKU."""
    if record["reason"] is not None:
        return str(record["reason"])
    for check in record["line_checks"] or ():
        if check["problem"] is not None:
            return str(check["problem"])
        if check["sku"] in unknown:
            return f"{check['label']}: unknown SKU {check['sku']}"
    return None


def judge(records: list[dict[str, Any]], known: KnownSkus) -> list[dict[str, Any]]:
    """The records with their final `reason` (line_checks dropped: they served)."""
    unknown = known.unknown(skus_named(records))
    for record in records:
        record["reason"] = reason(record, unknown)
        record.pop("line_checks", None)
    return records
