"""Reading an EAN-13 SVG back into digits, as a scanner would: for the labels' tests."""

from __future__ import annotations

import re

# EAN-13's digit patterns (GS1): left half in L or G code, right half in R code; the
# first digit is the pattern of L and G in the left half.
_L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011"]
_L += ["0110111", "0001011"]
_G = ["".join("1" if b == "0" else "0" for b in code)[::-1] for code in _L]
_R = ["".join("1" if b == "0" else "0" for b in code) for code in _L]
_FIRST = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG"]
_FIRST += ["LGLGGL", "LGGLGL"]


def decode_ean13_svg(svg: str) -> str:
    """Read the bars of an SVG back into digits, as a scanner would."""
    bars = [
        (float(x), float(w))
        for x, w in re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', svg)
    ]
    start = bars[0][0]
    modules = ["0"] * 95
    for x, width in bars:
        first = round((x - start) / 0.33)
        for m in range(first, first + round(width / 0.33)):
            modules[m] = "1"
    bits = "".join(modules)
    assert bits[:3] == "101" and bits[45:50] == "01010" and bits[92:] == "101", bits
    left, parity = "", ""
    for i in range(6):
        chunk = bits[3 + 7 * i : 10 + 7 * i]
        table, kind = (_L, "L") if chunk in _L else (_G, "G")
        left += str(table.index(chunk))
        parity += kind
    right = "".join(str(_R.index(bits[50 + 7 * i : 57 + 7 * i])) for i in range(6))
    return str(_FIRST.index(parity)) + left + right
