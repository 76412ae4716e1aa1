"""A family of products from a size-by-colour grid: one product per cell, each with its own
SKU, name, barcode and opening stock. Names follow the counter's tiles, which group
"Taikpon Jacket White (M)" and "(L)" under one tile by the size in brackets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pos_app.catalog.products import ProductIn

MAX_CELLS = 100
TOO_MANY = "a grid of at most 100 products (sizes times colours)"
NO_SIZES = "give at least one size"
NO_COLOURS = "give at least one colour"
SAME_CODE = "colours {a} and {b} would get the same SKU ({sku}); rename one"


class FamilyRejected(ValueError):
    pass


@dataclass(frozen=True)
class Colour:
    name: str
    name_my: str | None = None

    @property
    def code(self) -> str:
        letters = re.sub(r"[^A-Za-z0-9]", "", self.name).upper()
        return letters[:3] or "X"


def split_list(text: str) -> list[str]:
    """'S, M ,L' -> ['S', 'M', 'L'] (commas or new lines), empty parts and repeats dropped."""
    seen: list[str] = []
    for part in re.split(r"[,\n]", text):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def parse_colours(text: str) -> list[Colour]:
    """'White:အဖြူ, Black' -> colours, each with its Burmese name after a colon if given."""
    colours = []
    for part in split_list(text):
        name, _, name_my = part.partition(":")
        colours.append(Colour(name.strip(), name_my.strip() or None))
    return colours


@dataclass(frozen=True)
class Family:
    sku_prefix: str
    style: str
    style_my: str | None
    category: str
    unit_price: Decimal
    cost_price: Decimal | None
    reorder_point: int
    sizes: list[str]
    colours: list[Colour]


def cell_sku(family: Family, colour: Colour, size: str) -> str:
    size_code = re.sub(r"[^A-Za-z0-9.]", "", size).upper() or "X"
    return f"{family.sku_prefix.upper()}-{colour.code}-{size_code}"


def family_products(family: Family, opening: dict[tuple[int, int], int]) -> list[ProductIn]:
    """One product per colour (row) and size (column); `opening` maps (colour index,
    size index) to the opening stock. Raises FamilyRejected or pydantic's
    ValidationError (a bad price, a SKU too long)."""
    if not family.sizes:
        raise FamilyRejected(NO_SIZES)
    if not family.colours:
        raise FamilyRejected(NO_COLOURS)
    if len(family.sizes) * len(family.colours) > MAX_CELLS:
        raise FamilyRejected(TOO_MANY)
    codes: dict[str, str] = {}
    for colour in family.colours:
        if colour.code in codes:
            sku = cell_sku(family, colour, family.sizes[0])
            raise FamilyRejected(SAME_CODE.format(a=codes[colour.code], b=colour.name, sku=sku))
        codes[colour.code] = colour.name
    made = []
    for ci, colour in enumerate(family.colours):
        for si, size in enumerate(family.sizes):
            name_my = None
            if family.style_my:
                name_my = f"{family.style_my} {colour.name_my or colour.name} ({size})"
            made.append(
                ProductIn(
                    sku=cell_sku(family, colour, size),
                    name=f"{family.style} {colour.name} ({size})",
                    name_my=name_my,
                    category=family.category,
                    style=family.style,
                    colour=colour.name,
                    size=size,
                    unit_price=family.unit_price,
                    cost_price=family.cost_price,
                    reorder_point=family.reorder_point,
                    opening_stock=opening.get((ci, si), 0),
                )
            )
    return made
