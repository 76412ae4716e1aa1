"""Reading a Code 128 barcode back from the SVG the app draws, as a scanner would: the
bars to modules, the modules to symbols, the symbols (sets A, B, C) to text."""

from __future__ import annotations

import re

from barcode.charsets import code128

from pos_app.counter.receipt_codes import BARCODE_OPTIONS

START = {103: "A", 104: "B", 105: "C"}
SWITCH = {99: "C", 100: "B", 101: "A"}


def modules_of(svg: str) -> str:
    """The bars of the SVG as a string of modules, 1 dark, 0 light."""
    width, quiet = BARCODE_OPTIONS["module_width"], BARCODE_OPTIONS["quiet_zone"]
    dark: set[int] = set()
    for x, w in re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', svg):
        first = round((float(x) - quiet) / width)
        dark.update(range(first, first + round(float(w) / width)))
    return "".join("1" if i in dark else "0" for i in range(max(dark) + 1))


def decode(modules: str) -> str:
    """Code 128 (sets A, B, C, with their switches) back to text, checking the checksum."""
    symbols = []
    at = 0
    while modules[at : at + 11] != code128.STOP:
        symbols.append(code128.CODES.index(modules[at : at + 11]))
        at += 11
    assert modules[at:] == code128.STOP + "11"
    *values, check = symbols
    assert (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103 == check
    charset, text = START[values[0]], ""
    for value in values[1:]:
        if value in SWITCH:
            charset = SWITCH[value]
        elif charset == "C":
            text += f"{value:02d}"
        else:
            text += chr(value + 32) if charset == "B" or value < 64 else chr(value - 64)
    return text
