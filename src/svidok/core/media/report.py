"""One file's analysis: the report the steps fill in, and the Analysis it becomes.

Every step (thumbnail, ffprobe, PDF, exiftool) adds to a :class:`Report`:
metadata, summary fields, derived files, and errors as sentences (what was
expected, what was found). :meth:`Report.finish` freezes it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svidok.core.media.metadata import MAX_FIELD_CHARS, fill_summary, text_size
from svidok.core.media.sniff import UNKNOWN_MEDIA_TYPE

__all__ = ["Analysis", "DerivedFile", "Report"]

log = logging.getLogger(__name__)

# File-group tags that describe the stored copy (its name in the store, its
# permissions, when we touched it), not the evidence; keeping them would make
# a re-analysis of the same bytes give different metadata.
_STORE_COPY_TAGS = frozenset(
    {
        "FileName",
        "Directory",
        "FileModifyDate",
        "FileAccessDate",
        "FileInodeChangeDate",
        "FileCreateDate",
        "FilePermissions",
        "FileAttributes",
        "FileUserID",
        "FileGroupID",
        "FileDeviceNumber",
        "FileInodeNumber",
        "FileHardLinks",
        "FileBlockSize",
        "FileBlockCount",
        "FileDeviceID",
    }
)
_BINARY_PLACEHOLDER = re.compile(r"^\(Binary data (\d+) bytes")


@dataclass(frozen=True)
class DerivedFile:
    """A temporary file made from the evidence, for the caller to store as its own blob."""

    kind: str  # "thumbnail" | "keyframe" | "contact_sheet"
    path: Path
    media_type: str  # "image/jpeg"
    details: dict[str, Any]  # JSON-safe, no floats


@dataclass(frozen=True)
class Analysis:
    """What could be learnt from one file, and what could not."""

    media_type: str
    metadata: dict[str, Any]  # JSON-safe, no floats; groups plus "summary"
    errors: list[str]
    derived: list[DerivedFile]


@dataclass
class Report:
    """The mutable state of one file's analysis, frozen into an Analysis at the end."""

    path: Path
    media_type: str = UNKNOWN_MEDIA_TYPE
    readable: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    derived: list[DerivedFile] = field(default_factory=list)
    # Perceptual hashes, e.g. {"pdq": "<64 hex>", "quality": 100}; kept in the
    # metadata, so the custody log's metadata digest covers them.
    perceptual: dict[str, Any] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def merge_exiftool(self, entry: dict[str, Any] | str) -> None:
        """Fold one exiftool JSON object (or the reason there is none) into the report."""
        if isinstance(entry, str):
            self.error(entry)
            return
        for key, value in entry.items():
            if key == "SourceFile":
                continue
            group, separator, tag = key.partition(":")
            if not separator:
                group, tag = "Other", key
            if group == "File" and tag in _STORE_COPY_TAGS:
                continue
            if isinstance(value, str) and (binary := _BINARY_PLACEHOLDER.match(value)):
                self.omitted.append(f"{group}:{tag} (binary data, {binary.group(1)} bytes)")
                continue
            size = text_size(value)
            if size > MAX_FIELD_CHARS:
                self.omitted.append(f"{group}:{tag} ({size} characters)")
                continue
            self.metadata.setdefault(group.lower(), {})[tag] = value
        problem = self.metadata.get("exiftool", {}).get("Error")
        # For bytes libmagic does not know, "unrecognised format" has been said
        # already; exiftool's "Unknown file type" or "File format error" (it
        # guesses from the name) would only repeat it. It stays in the metadata.
        if problem and self.media_type != UNKNOWN_MEDIA_TYPE:
            self.error(f"exiftool reported an error: {problem}")

    def finish(self) -> Analysis:
        """Compute the summary and freeze the report."""
        metadata = self.metadata
        try:
            fill_summary(metadata, self.summary)
        except Exception as exc:  # a summary is a convenience; never lose the rest over it
            log.exception("summary failed for %s", self.path)
            self.error(f"summary could not be computed: {type(exc).__name__}: {exc}")
        if self.omitted:
            metadata["omitted"] = sorted(self.omitted)
        if "gps" in self.summary:
            metadata["gps"] = self.summary["gps"]
        metadata["summary"] = self.summary
        if self.perceptual:
            metadata["perceptual"] = self.perceptual
        return Analysis(
            media_type=self.media_type,
            metadata=metadata,
            errors=list(self.errors),
            derived=list(self.derived),
        )
