"""Reading upstream files: whole (with a size limit), and CSV record by record
without letting one bad record stop the rest.

Bytes that are not valid in the file's encoding are carried through as
surrogate escapes, so the records around them still parse and the record that
holds them is refused with the offending byte named. NUL bytes are dropped
before parsing (they are never text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from svidok.core.errors import InvalidInput, TooLarge
from svidok.core.incidents.importers._fields import MAX_FILE_BYTES, RowProblem

Record = dict[str, str]
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # how surrogateescape carries undecodable bytes


def undecodable(text: str) -> str | None:
    """The first byte that could not be decoded, as ``0xNN``, if any."""
    escaped = _ESCAPED_BYTE.search(text)
    return f"0x{ord(escaped.group()) - 0xDC00:02x}" if escaped else None


def read_bytes(path: Path) -> bytes:
    """The whole file; raises InvalidInput (TooLarge beyond MAX_FILE_BYTES) if it
    cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TooLarge(f"{path.name}: expected at most {MAX_FILE_BYTES:,} bytes, "
                           f"found {size:,}")
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"expected a file at {path}, found nothing there") from None
    except IsADirectoryError:
        raise InvalidInput(f"expected a file at {path}, found a folder") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_text(path: Path, encoding: str) -> str:
    """The whole file as text, undecodable bytes carried as surrogate escapes and
    NUL bytes dropped; raises InvalidInput if it cannot be read at all."""
    data = read_bytes(path)
    try:
        text = data.decode(encoding, errors="surrogateescape")
    except LookupError:
        raise InvalidInput(f"expected a text encoding such as 'utf-8', found {encoding!r}"
                           ) from None
    return text.removeprefix("\ufeff").replace("\x00", "")


def csv_records(
    path: Path, *, required: tuple[str, ...], encoding: str = "utf-8", delimiter: str = ","
) -> tuple[list[str], Iterator[tuple[int, Record, RowProblem | None]]]:
    """The header and, lazily, each data record as ``(row, fields, problem)``; when
    ``problem`` is set, ``fields`` holds what could be read (perhaps nothing).

    Rows are numbered as a spreadsheet shows them: the header is row 1, so the
    first data record is row 2 (equal to the line number unless a quoted field
    spans lines). Raises :class:`InvalidInput` when the file is empty, its
    header is unreadable, or a ``required`` column is missing.
    """
    text = read_text(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path.name} is empty: expected a header row with the columns "
                           f"{', '.join(required)}") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}: expected a CSV header row, found unreadable text "
                           f"({exc})") from None
    header = [name.strip() for name in header]
    bad_byte = undecodable("".join(header))
    if bad_byte:
        raise InvalidInput(f"{path.name}: expected {encoding} text, found byte {bad_byte} "
                           "in the header row")
    missing = [name for name in required if name not in header]
    if missing:
        raise InvalidInput(
            f"{path.name}: expected columns {', '.join(required)}; missing "
            f"{', '.join(missing)}; found {', '.join(header) or 'no columns'}",
            missing=missing, found=header)
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise InvalidInput(f"{path.name}: expected each column name once, found "
                           f"{', '.join(repeated)} more than once")
    return header, _records(reader, header, encoding)


def _records(
    reader: Iterator[list[str]], header: list[str], encoding: str
) -> Iterator[tuple[int, Record, RowProblem | None]]:
    row = 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row, {}, RowProblem(f"expected a CSV record, found unreadable text ({exc})")
            continue
        if not cells or cells == [""]:
            continue  # a blank line holds no record
        record = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            yield row, record, RowProblem(f"expected {len(header)} fields, found {len(cells)}")
            continue
        for name, value in record.items():
            bad_byte = undecodable(value)
            if bad_byte:
                problem = RowProblem(f"{name}: expected {encoding} text, found byte {bad_byte}")
                yield row, record, problem
                break
        else:
            yield row, record, None
