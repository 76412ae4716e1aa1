"""Reading the CSV files people hand us, whatever their spreadsheet program did to them.

Excel's "CSV UTF-8" starts the file with a byte-order mark, Windows programs end lines
with CRLF, and "Unicode text" is UTF-16. Each of these is read as its text; a file in
any other encoding is refused with the line where it stops being UTF-8, never guessed.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Byte-order marks, longest first (UTF-32's LE mark begins with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class UnreadableFile(ValueError):
    """A whole file that cannot be read: it is refused, never half-imported."""


@dataclass(frozen=True)
class CsvText:
    name: str
    encoding: str  # "utf-8", "utf-8 with BOM", "utf-16", ...
    text: str

    @property
    def not_plain_utf8(self) -> bool:
        return self.encoding != "utf-8"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, cells); any line ending."""
        reader = csv.reader(io.StringIO(self.text, newline=""))
        line = 1
        for row in reader:
            yield line, row
            line = reader.line_num + 1


def decode(name: str, data: bytes) -> CsvText:
    """The text of a CSV file's bytes, or UnreadableFile naming the line that is not text."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise UnreadableFile(f"{name}: not valid {codec.upper()}: {error.reason}") from None
            label = "utf-8 with BOM" if codec == "utf-8-sig" else codec
            return CsvText(name, label, text.lstrip("\ufeff"))
    try:
        return CsvText(name, "utf-8", data.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            f"{name} line {line}: not UTF-8 (byte 0x{data[error.start]:02x}); save it as CSV UTF-8"
        ) from None


def read_csv(path: Path) -> CsvText:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"{path.name}: cannot be read: {error.strerror}") from None
    return decode(path.name, data)


def clean_header(cells: list[str]) -> list[str]:
    """Header cells as a person typed them: surrounding spaces do not count."""
    return [cell.strip() for cell in cells]
