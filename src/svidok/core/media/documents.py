"""Documents: PDF information (pypdf) and ZIP directories.

exiftool's groups for the same file land beside what is read here; pypdf's
keys are in snake_case so that they never meet exiftool's.
"""

from __future__ import annotations

import re
import zipfile
from typing import Any

from svidok.core.media.metadata import MAX_FIELD_CHARS, json_safe, text_size
from svidok.core.media.report import Report

MAX_ARCHIVE_NAMES = 200
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})


def analyse_pdf(report: Report) -> None:
    """Document information via pypdf; exiftool's PDF group lands beside it."""
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(report.path)
    except Exception as exc:
        report.error(f"corrupt PDF: pypdf could not read it: {exc}")
        return
    pdf: dict[str, Any] = report.metadata.setdefault("pdf", {})
    header = reader.pdf_header
    if isinstance(header, str) and header.startswith("%PDF-"):
        pdf["version"] = header[5:].strip()[:8]
    pdf["encrypted"] = bool(reader.is_encrypted)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as exc:  # unsupported algorithm, missing crypto library, damage
            report.error(f"encrypted PDF could not be opened: {exc}")
            return
        if not opened:
            report.error(
                "password-protected PDF: a user password is needed to open it; "
                "only unencrypted metadata was read"
            )
            return
    try:
        pages = len(reader.pages)
        pdf["pages"] = pages
        report.summary["pages"] = pages
    except Exception as exc:
        report.error(f"corrupt PDF: the page tree could not be read: {exc}")
    try:
        document = reader.metadata
    except Exception as exc:
        report.error(f"corrupt PDF: the document information could not be read: {exc}")
        return
    if document is None:
        return
    for key in list(document.keys()):
        name = _snake(str(key).lstrip("/"))
        try:
            value = json_safe(document[key])
        except Exception as exc:
            report.error(f"corrupt PDF: document information {key} is unreadable: {exc}")
            continue
        if text_size(value) > MAX_FIELD_CHARS:
            report.omitted.append(f"pdf:{name} ({text_size(value)} characters)")
            continue
        pdf[name] = value
    try:
        created = document.creation_date
    except Exception:  # malformed date text: the raw text is already in pdf["creation_date"]
        created = None
    if created is not None:
        report.summary["created"] = created.isoformat()
        report.summary["created_source"] = "pdf:CreationDate"


def _snake(name: str) -> str:
    """``CreationDate`` -> ``creation_date``, so pypdf's keys never meet exiftool's."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower() or "unnamed"


def analyse_zip(report: Report) -> None:
    try:
        with zipfile.ZipFile(report.path) as archive:
            entries = archive.infolist()
    except Exception as exc:
        report.error(f"corrupt archive: expected a readable ZIP directory, found: {exc}")
        return
    encrypted = sum(1 for entry in entries if entry.flag_bits & 0x1)
    names = [json_safe(entry.filename) for entry in entries[:MAX_ARCHIVE_NAMES]]
    report.metadata["archive"] = {
        "format": "zip",
        "entries": len(entries),
        "encrypted_entries": encrypted,
        "uncompressed_bytes": sum(entry.file_size for entry in entries),
        "names": names,
        "names_truncated": len(entries) > MAX_ARCHIVE_NAMES,
    }
    if encrypted:
        report.error(
            f"password-protected archive: {encrypted} of {len(entries)} entries are encrypted"
        )
