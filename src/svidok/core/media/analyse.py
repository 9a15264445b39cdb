"""Analyse stored evidence files: metadata, thumbnails, keyframes, contact sheets.

The caller has already stored the original bytes; this module only reads that
stored copy. Evidence must never be lost to a failed analysis, so nothing
about a file's content raises: every problem becomes a sentence in
``Analysis.errors`` (what was expected, what was found) and the batch goes on.

This module is the orchestration; each kind of work has a module of its own:

* :mod:`.exiftool`: one ``exiftool -stay_open`` process for the analyser's
  whole lifetime, reading a whole batch of paths per command on a worker
  thread, while this thread decodes thumbnails (Pillow releases the GIL);
* :mod:`.images`: thumbnails, JPEGs decoded at reduced scale (``Image.draft``),
  on a pool of two threads;
* :mod:`.video`: one ``ffprobe`` and one ``ffmpeg`` process per audio or video;
* :mod:`.documents`: PDF information and ZIP directories;
* :mod:`.metadata`: JSON safety and the summary (created time, GPS, size);
* :mod:`.report`: one file's report, and the :class:`Analysis` it becomes.

Metadata is JSON-safe and holds no floats, so that it can go straight into
:func:`svidok.core.canonical.canonical_json`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from svidok.core.errors import ConfigurationError, ExtractionError
from svidok.core.media.documents import ZIP_TYPES, analyse_pdf, analyse_zip
from svidok.core.media.exiftool import Entry, ExifToolReader
from svidok.core.media.images import MAX_IMAGE_PIXELS, make_thumbnail
from svidok.core.media.metadata import json_safe as json_safe  # public: re-exported
from svidok.core.media.report import Analysis, DerivedFile, Report
from svidok.core.media.sniff import (
    EMPTY_MEDIA_TYPE,
    UNKNOWN_MEDIA_TYPE,
    media_kind,
    sniff_media_type,
)
from svidok.core.media.video import analyse_audio_video

__all__ = ["Analysis", "DerivedFile", "MediaAnalyser"]

log = logging.getLogger(__name__)

# Two cores is the machine this is sized for; more threads only add contention.
IMAGE_THREADS = min(2, os.cpu_count() or 1)


class MediaAnalyser:
    """Analyse stored files in batches; a context manager owning one exiftool process.

    ::

        with MediaAnalyser(workdir=tmp) as analyser:
            for analysis in analyser.analyse_many(paths):
                ...

    Every temporary output goes under ``workdir``; the caller stores the
    ``derived`` files and cleans the directory. One analyser serves one thread
    at a time.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        thumbnail_size: int = 320,
        keyframes: int = 4,
        max_image_pixels: int = MAX_IMAGE_PIXELS,
        perceptual: bool = True,
    ) -> None:
        if thumbnail_size < 1:
            raise ConfigurationError(f"thumbnail_size must be at least 1, got {thumbnail_size}")
        if keyframes < 0:
            raise ConfigurationError(f"keyframes must be 0 or more, got {keyframes}")
        if max_image_pixels < 1:
            raise ConfigurationError(f"max_image_pixels must be at least 1, got {max_image_pixels}")
        self.workdir = Path(os.path.abspath(workdir))
        self.thumbnail_size = thumbnail_size
        self.keyframes = keyframes
        self.max_image_pixels = max_image_pixels
        self.perceptual = perceptual  # near-duplicate hashes; off only to measure their cost
        self._exiftool = ExifToolReader()
        self._images = ThreadPoolExecutor(max_workers=IMAGE_THREADS,
                                          thread_name_prefix="svidok-images")

    def __enter__(self) -> MediaAnalyser:
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"the analysis work directory could not be created: {exc}",
                workdir=str(self.workdir),
            ) from exc
        self._exiftool.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads and the exiftool process."""
        self._images.shutdown(wait=True)
        self._exiftool.close()

    def analyse(self, path: Path) -> Analysis:
        """Analyse one file (a batch of one)."""
        return self.analyse_many([path])[0]

    def analyse_many(self, paths: Sequence[Path]) -> list[Analysis]:
        """Analyse ``paths``; return one Analysis per path, in the same order.

        Never raises because of a file's content: problems are in each
        Analysis's ``errors``. Derived files are written under ``workdir``;
        store them before cleaning it.
        """
        if not self._exiftool.started:
            raise ConfigurationError(
                "MediaAnalyser must be entered before use: "
                "`with MediaAnalyser(workdir=...) as analyser:`"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)  # the caller may have cleaned it
        reports = [Report(path=Path(os.path.abspath(path))) for path in paths]
        for report in reports:
            _sniff(report)
        for_exiftool = [r for r in reports if r.readable and r.media_type != EMPTY_MEDIA_TYPE]
        # exiftool works in its own process while this thread decodes images.
        future = self._exiftool.read([r.path for r in for_exiftool], self.workdir)
        try:
            # Images on a small thread pool (decoding and resizing release the GIL);
            # the rest here, where video work waits on its own ffmpeg processes.
            images = [
                self._images.submit(_guarded, r, functools.partial(self._analyse_kind, r))
                for r in reports
                if r.readable and media_kind(r.media_type) == "image"
            ]
            for report in reports:
                if report.readable and media_kind(report.media_type) != "image":
                    _guarded(report, functools.partial(self._analyse_kind, report))
            for done in images:
                done.result()
        finally:
            try:
                found: list[Entry] = future.result()
            except Exception as exc:
                log.exception("exiftool batch failed")
                found = [f"metadata extraction failed: {exc}"] * len(for_exiftool)
        for report, entry in zip(for_exiftool, found, strict=True):
            _guarded(report, functools.partial(report.merge_exiftool, entry))
        return [report.finish() for report in reports]

    def _analyse_kind(self, report: Report) -> None:
        media_type = report.media_type
        if media_type == EMPTY_MEDIA_TYPE:
            report.error("empty file: 0 bytes")
            return
        kind = media_kind(media_type)
        if kind == "image":
            make_thumbnail(
                report,
                workdir=self.workdir,
                size=self.thumbnail_size,
                max_pixels=self.max_image_pixels,
                perceptual=self.perceptual,
            )
        elif kind in ("video", "audio"):
            analyse_audio_video(
                report,
                workdir=self.workdir,
                keyframes=self.keyframes,
                cell_size=self.thumbnail_size,
                perceptual=self.perceptual,
            )
        elif kind == "pdf":
            analyse_pdf(report)
        elif kind == "archive" and media_type in ZIP_TYPES:
            analyse_zip(report)
        elif media_type == "application/encrypted":
            report.error(
                "password-protected document: an encrypted container (as Office writes "
                "password-protected files); its content needs the password"
            )
        elif media_type == UNKNOWN_MEDIA_TYPE:
            report.error(f"unrecognised format: {media_type}")


def _sniff(report: Report) -> None:
    try:
        report.media_type = sniff_media_type(report.path)
    except (ExtractionError, ConfigurationError) as exc:
        report.error(exc.message)
        return
    except Exception as exc:
        report.error(f"unreadable file: {type(exc).__name__}: {exc}")
        return
    report.readable = True


def _guarded(report: Report, step: Callable[[], object]) -> None:
    """Run one step; an unexpected failure becomes an error entry, not a lost batch."""
    try:
        step()
    except Exception as exc:
        log.exception("analysis step failed for %s", report.path)
        report.error(f"analysis failed unexpectedly: {type(exc).__name__}: {exc}")
