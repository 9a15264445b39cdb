"""Text in media: OCR of images (tesseract) and the text of PDFs (pdfium).

1. An image is decoded by Pillow under the decompression-bomb guard
   (:data:`~svidok.core.media.images.MAX_IMAGE_PIXELS`), turned as a viewer
   shows it, laid over white if transparent, made greyscale and scaled: small
   images are enlarged (tesseract reads text of 20–30 px best), huge ones
   reduced to :data:`OCR_MAX_PIXELS` so that one 100-megapixel photo cannot
   hold the queue for minutes or exhaust memory.
2. tesseract reads that copy as a PNG on its standard input and writes the
   text to its standard output: no shell, no temporary file, and no file name
   on its command line that it could take for an option.
3. A PDF gives the text of its text layer, page by page. A page whose layer
   holds (almost) nothing, such as a scan, is rendered at :data:`PDF_OCR_DPI`
   and read as in step 2.

Nothing here imports Django: the results are plain :class:`PageText` values.
Everything that goes wrong with a file raises :class:`ExtractionError` saying
what was expected and what was found; a missing tesseract or language pack
raises :class:`OcrUnavailable`, so callers can tell "fix the machine and try
again" from "this file has a problem".
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from svidok.core.errors import ExtractionError
from svidok.core.media.images import MAX_IMAGE_PIXELS

__all__ = [
    "DEFAULT_LANGUAGES",
    "OcrUnavailable",
    "PageText",
    "clean_text",
    "image_text",
    "ocr_image",
    "pdf_text",
]

DEFAULT_LANGUAGES: tuple[str, ...] = ("ukr", "rus", "eng")
OCR_TIMEOUT_S = 180.0  # one image or page; a dense A4 page takes 1–3 s on one core
# The largest copy handed to tesseract: an A4 page at 400 dpi. Beyond that the
# cost grows with the pixels while text of readable size is already readable.
OCR_MAX_PIXELS = 16_000_000
# Images smaller than this on their longest side are enlarged (at most 3×):
# screenshots and cropped photos carry 8–15 px text, which tesseract misreads.
OCR_MIN_LONG_SIDE = 1600
MAX_UPSCALE = 3.0
PDF_OCR_DPI = 300
PDF_MAX_PAGES = 2000
# A page holding a picture and fewer visible characters than this in its text
# layer is treated as a scan: scanners often stamp only a page number or a date
# into the layer. A page with no text layer at all is always read by OCR (its
# text may be drawn as outlines).
MIN_TEXT_LAYER_CHARS = 16
TIFF_MAX_FRAMES = 500

Method = Literal["text-layer", "ocr"]
ImageSource = str | os.PathLike[str] | Image.Image

_LANGUAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# Debian names the language packs after tesseract's codes, e.g. tesseract-ocr-ukr.
_INSTALL_HINT = "install tesseract-ocr and tesseract-ocr-ukr, tesseract-ocr-rus (Debian/Ubuntu)"
# pdfium is not thread-safe: every call into it is made under this lock. OCR,
# the slow part, runs outside it.
_PDFIUM_LOCK = threading.Lock()


class OcrUnavailable(ExtractionError):
    """tesseract or one of its language packs is not installed: no file could be read."""


@dataclass(frozen=True, slots=True)
class PageText:
    """The text of one page (1-based) of a PDF or multi-page image, and how it was read.

    ``error`` is set when this page could not be read while the others were:
    one damaged page of a long document does not cost the rest.
    """

    page: int
    text: str
    method: Method
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"page": self.page, "text": self.text, "method": self.method}
        if self.error:
            data["error"] = self.error
        return data


def clean_text(text: str) -> str:
    """Text fit for storage and search: NULs and other control characters removed
    (PostgreSQL rejects NUL in text), line ends unified, trailing blanks and runs of
    empty lines trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
        and ch not in "\ufffe\uffff"
    )
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- images -----------------------------------------------------------------------------


def ocr_image(
    source: ImageSource,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    timeout_s: float = OCR_TIMEOUT_S,
) -> str:
    """The text tesseract reads in an image file or decoded image (its first frame).

    An empty string means no text was found (a one-pixel image has none); every
    failure raises :class:`ExtractionError` instead.
    """
    if isinstance(source, Image.Image):
        return _ocr_prepared(_prepare(source), languages=languages, timeout_s=timeout_s)
    return image_text(source, languages=languages, timeout_s=timeout_s, max_pages=1)[0].text


def image_text(
    path: str | os.PathLike[str],
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    timeout_s: float = OCR_TIMEOUT_S,
    max_pages: int = TIFF_MAX_FRAMES,
    on_page: Callable[[int], None] | None = None,
) -> list[PageText]:
    """OCR of an image file, one :class:`PageText` per page.

    Only multi-page TIFFs (faxes, scanner output) have more than one page; the
    frames of an animation are not pages. ``on_page(number)`` is called before
    each page is read, so a caller can show progress or stop by raising.
    """
    _tesseract(languages)  # a missing tesseract is reported before any decoding
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ExtractionError(f"expected an image Pillow can decode: {exc}") from exc
    except OSError as exc:
        if exc.errno is None:  # Pillow's own complaint about the bytes, not the disk's
            raise ExtractionError(f"truncated or corrupt image: {exc}") from exc
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # decoders raise ValueError, SyntaxError, struct.error…
        raise ExtractionError(f"truncated or corrupt image: {exc}") from exc
    with image:
        frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
        pages = []
        for index in range(min(frames, max_pages)):
            if on_page is not None:
                on_page(index + 1)
            try:
                image.seek(index)
                prepared = _decode(image)
            except ExtractionError as exc:
                if frames == 1:
                    raise
                pages.append(PageText(index + 1, "", "ocr", error=exc.message))
                continue
            try:
                text = _ocr_prepared(prepared, languages=languages, timeout_s=timeout_s)
            except OcrUnavailable:
                raise  # no page can be read: the whole item fails, with the install hint
            except ExtractionError as exc:
                if frames == 1:
                    raise
                # One slow or odd page of a long fax TIFF does not cost the others.
                pages.append(PageText(index + 1, "", "ocr", error=exc.message))
                continue
            pages.append(PageText(index + 1, text, "ocr"))
        return pages


def _decode(image: Image.Image) -> Image.Image:
    """The current frame of an opened image, decoded under the pixel guard and prepared."""
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
        raise ExtractionError(
            f"expected an image of 1 to {MAX_IMAGE_PIXELS} pixels; found {width}x{height} "
            "(a decompression-bomb guard)")
    try:
        if image.format in ("JPEG", "MPO") and width * height > OCR_MAX_PIXELS:
            factor = (OCR_MAX_PIXELS / (width * height)) ** 0.5
            image.draft("L", (max(1, int(width * factor)), max(1, int(height * factor))))
        image.load()
        shown = ImageOps.exif_transpose(image)
        return _prepare(shown)
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"expected at most {MAX_IMAGE_PIXELS} pixels: {exc}") from exc
    except ExtractionError:
        raise
    except Exception as exc:  # truncated data and decoder errors of every kind
        raise ExtractionError(f"truncated or corrupt image: {exc}") from exc


def _prepare(image: Image.Image) -> Image.Image:
    """A greyscale copy scaled to what tesseract reads best (see the module docstring)."""
    grey = _greyscale(image)
    width, height = grey.size
    if width * height > OCR_MAX_PIXELS:
        factor = (OCR_MAX_PIXELS / (width * height)) ** 0.5
    elif 0 < max(width, height) < OCR_MIN_LONG_SIDE:
        factor = min(MAX_UPSCALE, OCR_MIN_LONG_SIDE / max(width, height))
    else:
        return grey
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return grey.resize(size, Image.Resampling.LANCZOS if factor > 1 else
                       Image.Resampling.BILINEAR)


def _greyscale(image: Image.Image) -> Image.Image:
    """An 8-bit grey copy; transparency laid over white so that dark text on a
    transparent background stays readable, and 16-bit greys keep their high byte."""
    if image.mode == "L":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        peak = image.getextrema()[1]
        scale = 255 / peak if isinstance(peak, int | float) and peak > 255 else 1
        return image.point(lambda value: value * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La", "P") and (
            image.mode != "P" or "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return image.convert("L")


def _ocr_prepared(image: Image.Image, *, languages: Sequence[str], timeout_s: float) -> str:
    binary = _tesseract(languages)
    if min(image.size) < 3:
        return ""  # nothing fits in a strip this thin; tesseract would only warn
    png = io.BytesIO()
    image.save(png, "PNG", compress_level=1)
    command = [binary, "stdin", "stdout", "-l", "+".join(languages), "--dpi", "300",
               "--psm", "3"]
    try:
        done = subprocess.run(command, input=png.getvalue(), capture_output=True,
                              timeout=timeout_s, env=_tesseract_env(), check=False)
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(
            f"tesseract did not finish within {timeout_s:g} s on a "
            f"{image.width}x{image.height} image; expected text within the time limit",
            timeout_s=timeout_s) from exc
    except OSError as exc:
        raise OcrUnavailable(f"tesseract could not be started ({exc.strerror or exc}); "
                             f"{_INSTALL_HINT}") from exc
    if done.returncode != 0:
        raise ExtractionError(
            f"tesseract failed with exit status {done.returncode}: {_last_line(done.stderr)}")
    return clean_text(done.stdout.decode("utf-8", errors="replace"))


def _tesseract_env() -> dict[str, str]:
    # tesseract's OpenMP threads fight over the cores with everything else:
    # measured on two shared cores, one thread reads a page in 0.29 s, all threads 0.62 s.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", errors="replace").splitlines()
             if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _tesseract(languages: Sequence[str]) -> str:
    """The tesseract binary, once its language packs are known to be installed."""
    if not languages:
        raise ExtractionError("expected at least one OCR language, e.g. ukr; got none")
    for language in languages:
        if not _LANGUAGE_NAME.fullmatch(language):
            raise ExtractionError(
                f"expected a tesseract language code such as ukr or eng; got {language!r:.40}")
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailable(f"tesseract is not installed (not found on PATH); {_INSTALL_HINT}")
    installed = _installed_languages(binary, os.environ.get("TESSDATA_PREFIX", ""))
    missing = [language for language in languages if language not in installed]
    if missing:
        packs = ", ".join(f"tesseract-ocr-{language}" for language in missing)
        raise OcrUnavailable(
            f"tesseract language data missing for {', '.join(missing)}; install {packs} "
            f"(installed: {', '.join(sorted(installed)) or 'none'})")
    return binary


@functools.lru_cache(maxsize=8)
def _installed_languages(binary: str, tessdata: str) -> frozenset[str]:
    """Asked once per binary and data folder: ``--list-langs`` costs a process start."""
    try:
        done = subprocess.run([binary, "--list-langs"], capture_output=True, timeout=30,
                              env=_tesseract_env(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"tesseract could not be started ({exc}); {_INSTALL_HINT}") from exc
    if done.returncode != 0:
        raise OcrUnavailable(f"tesseract --list-langs failed: {_last_line(done.stderr)}; "
                             f"{_INSTALL_HINT}")
    # The first line names the data folder; the codes follow, one per line.
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if _LANGUAGE_NAME.fullmatch(line.strip()))


# --- PDF --------------------------------------------------------------------------------


def pdf_text(
    path: str | os.PathLike[str],
    *,
    ocr_pages_without_text: bool = True,
    max_pages: int = PDF_MAX_PAGES,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    timeout_s: float = OCR_TIMEOUT_S,
    dpi: int = PDF_OCR_DPI,
    on_page: Callable[[int], None] | None = None,
) -> list[PageText]:
    """The text of each of the first ``max_pages`` pages of a PDF.

    A page with a text layer gives that text ("text-layer"); a page without one
    is rendered at ``dpi`` and OCR'd ("ocr"), unless ``ocr_pages_without_text`` is
    false (then its text is empty). A page that cannot be read carries an
    ``error`` and the others are still read; a missing tesseract raises
    :class:`OcrUnavailable` at the first page that needs it. Encrypted and
    damaged documents raise :class:`ExtractionError`.
    """
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(os.fspath(path))
        except pdfium.PdfiumError as exc:
            raise ExtractionError(_pdf_open_problem(str(exc))) from exc
        except OSError as exc:
            raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        with _PDFIUM_LOCK:
            count = len(document)
        pages = []
        for index in range(min(count, max_pages)):
            if on_page is not None:
                on_page(index + 1)
            pages.append(_pdf_page(document, index, ocr=ocr_pages_without_text,
                                   languages=languages, timeout_s=timeout_s, dpi=dpi))
        return pages
    finally:
        with _PDFIUM_LOCK:
            document.close()


def _pdf_open_problem(message: str) -> str:
    if "password" in message.lower():
        return ("expected a PDF that opens without a password; found a password-protected "
                "(encrypted) PDF, so its text cannot be read")
    return f"expected a readable PDF; pdfium could not open it: {message}"


def _pdf_page(document: object, index: int, *, ocr: bool, languages: Sequence[str],
              timeout_s: float, dpi: int) -> PageText:
    import pypdfium2 as pdfium

    assert isinstance(document, pdfium.PdfDocument)
    number = index + 1
    rendered: Image.Image | None = None
    with _PDFIUM_LOCK:
        try:
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    layer = clean_text(textpage.get_text_bounded())
                finally:
                    textpage.close()
                if ocr and _looks_scanned(page, layer):
                    rendered = _render(page, dpi)
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            return PageText(number, "", "text-layer", error=f"page could not be read: {exc}")
    if rendered is None:
        return PageText(number, layer, "text-layer")
    try:
        text = _ocr_prepared(_prepare(rendered), languages=languages, timeout_s=timeout_s)
    except OcrUnavailable:
        raise
    except ExtractionError as exc:
        return PageText(number, layer, "text-layer", error=f"OCR failed: {exc.message}")
    return PageText(number, text, "ocr")


def _looks_scanned(page: object, layer: str) -> bool:
    visible = sum(1 for ch in layer if not ch.isspace())
    if visible == 0:
        return True
    if visible >= MIN_TEXT_LAYER_CHARS:
        return False
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    assert isinstance(page, pdfium.PdfPage)
    pictures = page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=3)
    return next(iter(pictures), None) is not None


def _render(page: object, dpi: int) -> Image.Image | None:
    """The page as a greyscale image at ``dpi``, reduced to fit OCR_MAX_PIXELS."""
    import pypdfium2 as pdfium

    assert isinstance(page, pdfium.PdfPage)
    width, height = page.get_size()  # points, 1/72 inch
    if width <= 0 or height <= 0:
        return None
    scale = dpi / 72
    if width * height * scale * scale > OCR_MAX_PIXELS:
        scale = (OCR_MAX_PIXELS / (width * height)) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
    try:
        image: Image.Image = bitmap.to_pil()
        return image.copy()  # independent of the bitmap's buffer, which is freed next
    finally:
        bitmap.close()
