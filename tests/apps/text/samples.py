"""Synthetic evidence with text in it: rendered lines, PDFs with and without a text layer."""

from __future__ import annotations

import ctypes
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian: fonts-dejavu-core

LINES = [
    "КИЇВ, вулиця Хрещатик 22",
    "Обстріл житлового будинку",
    "Обстрел жилого дома в Харькове",
    "Shelling of a residential building",
]


def text_image(lines=LINES, *, size=40, mode="L", background=255) -> Image.Image:
    """Black lines of text on a plain background, as a scan or screenshot would show them."""
    font = ImageFont.truetype(str(FONT), size)
    width = max(int(font.getlength(line)) for line in lines) + 2 * size
    image = Image.new(mode, (width, (len(lines) + 1) * size * 2), background)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((size, size + row * size * 2), line, font=font, fill=0 if mode == "L" else
                  (0, 0, 0, 255))
    return image


def save_text_image(path: Path, lines=LINES, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text_image(lines, **kwargs).save(path)
    return path


def scanned_pdf(path: Path, lines=LINES) -> Path:
    """A PDF whose one page is a picture of text (no text layer), like a scanner's output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text_image(lines).convert("RGB").save(path, "PDF", resolution=150)
    return path


def text_layer_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF with real text (DejaVu Sans embedded), one list of lines per page; an empty
    list makes a blank page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    data = FONT.read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    font = raw.FPDFText_LoadFont(pdf, buffer, len(data), raw.FPDF_FONT_TRUETYPE, 1)
    for lines in pages:
        page = pdf.new_page(595, 842)
        for row, line in enumerate(lines):
            obj = raw.FPDFPageObj_CreateTextObj(pdf, font, 14.0)
            wide = (line + "\0").encode("utf-16-le")
            raw.FPDFText_SetText(obj, ctypes.cast(ctypes.c_char_p(wide),
                                                  ctypes.POINTER(raw.FPDF_WCHAR)))
            raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, 760 - row * 24)
            raw.FPDFPage_InsertObject(page.raw, obj)
        raw.FPDFPage_GenerateContent(page.raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(path)
    raw.FPDFFont_Close(font)
    return path


def encrypted_pdf(path: Path, source: Path) -> Path:
    """``source`` encrypted with a user password (needed to open it)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path
