"""Reading the CSV files admins upload (airdrops, whitelisted contracts): UTF-8 (a byte
order mark allowed), a header row naming the columns (any case, any order; columns not
asked for are ignored), at most ``MOST_BYTES``. Each row comes with its line in the file,
so a refusal can name the line an admin finds in an editor."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from bursa.errors import BursaError, Refusal

MOST_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # in the file: the header is line 1
    values: dict[str, str]  # by lower-case column name, stripped


def refused_line(area: str, code: str, line: int) -> BursaError:
    """A refused file: what is wrong (``{area}.{code}``) and where (``{area}.line_N``)."""
    return BursaError(Refusal.INVALID, f"{area}.{code}", f"{area}.line_{line}")


def read(content: bytes, area: str, required: Sequence[str]) -> list[Line]:
    """The rows of ``content`` that are not blank; ``{area}.invalid_file`` when it is not
    such a CSV or lacks a ``required`` column, ``{area}.empty_file`` without rows."""
    invalid = BursaError(Refusal.INVALID, f"{area}.invalid_file")
    if len(content) > MOST_BYTES or b"\x00" in content:
        raise invalid
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise invalid from None
    if not rows:
        raise invalid
    header = [name.strip().lower() for name in rows[0]]
    if not set(required) <= set(header):
        raise invalid
    found = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise refused_line(area, "invalid_file", number)
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=False)}
        found.append(Line(number, cells))
    if not found:
        raise BursaError(Refusal.INVALID, f"{area}.empty_file")
    return found
