"""Zawgyi, the legacy Burmese font encoding many phones and old files still use, turned
into Unicode wherever text comes in: the counter's search, product names in imports,
and the free text of API and form input. Google's detector (myanmartools) says how likely
a string is Zawgyi; python-myanmar's rules convert it. Unicode text is left as it is.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Annotated, Any

from myanmar import converter
from myanmartools import ZawgyiDetector
from pydantic import BeforeValidator

# The detector's authors suggest 0.95: Unicode Burmese scores near 0, Zawgyi near 1.
ZAWGYI_THRESHOLD = 0.95
_MYANMAR = re.compile("[\u1000-\u109f]")
_SPACES = re.compile(r"\S+")  # a word: what lies between spaces


@cache
def _detector() -> ZawgyiDetector:
    return ZawgyiDetector()  # loads its model once


def zawgyi_probability(text: str) -> float:
    return float(_detector().get_zawgyi_probability(text)) if _MYANMAR.search(text) else 0.0


def to_unicode(text: str) -> str:
    """`text` in Unicode: converted when it reads as Zawgyi, else as it is. Word by word
    when the whole does not decide: a name such as "ကတၱီပါဖိနပ္ အနီရင့္" mixes Zawgyi words
    with words that read the same in both encodings, which pull the whole's score down."""
    if not _MYANMAR.search(text):
        return text
    if zawgyi_probability(text) >= ZAWGYI_THRESHOLD:
        return _convert(text)
    return _SPACES.sub(
        lambda word: (
            _convert(word[0]) if zawgyi_probability(word[0]) >= ZAWGYI_THRESHOLD else word[0]
        ),
        text,
    )


def search_forms(text: str) -> list[str]:
    """What to look for when someone types `text`: it as it is (made Unicode when it reads
    as Zawgyi), and for Burmese also its Zawgyi-to-Unicode conversion. A short word alone
    ("တိုက္ပုံ") scores too low to convert with confidence; looking up both readings costs
    nothing and finds the product either way."""
    forms = [to_unicode(text)]
    if _MYANMAR.search(text) and (converted := _convert(text)) not in forms:
        forms.append(converted)
    return forms


def _convert(text: str) -> str:
    # Zawgyi typists put the dot below and the asat in either order; Unicode has one.
    converted = str(converter.convert(text, "zawgyi", "unicode"))
    return converted.replace("\u103a\u1037", "\u1037\u103a")


@lru_cache(maxsize=4096)
def to_zawgyi(text: str) -> str:
    """Unicode Burmese as a Zawgyi phone would type it (for matching such input)."""
    return str(converter.convert(text, "unicode", "zawgyi")) if _MYANMAR.search(text) else text


def _unicode_input(value: Any) -> Any:
    return to_unicode(value) if isinstance(value, str) else value


# Free text from outside (API bodies, forms): stored and sent on as Unicode.
MyanmarText = Annotated[str, BeforeValidator(_unicode_input)]
