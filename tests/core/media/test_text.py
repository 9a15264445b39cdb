"""Text in media: OCR of images and PDF pages, and every way a file can go wrong."""

from __future__ import annotations

import stat
import time

import pytest
from PIL import Image
from tests.apps.text.samples import (
    FONT,
    encrypted_pdf,
    save_text_image,
    scanned_pdf,
    text_image,
    text_layer_pdf,
)

from svidok.core.errors import ExtractionError
from svidok.core.media import text as text_module
from svidok.core.media.text import (
    OcrUnavailable,
    clean_text,
    image_text,
    ocr_image,
    pdf_text,
)

pytestmark = pytest.mark.skipif(not FONT.exists(),
                                reason="needs a Cyrillic font: apt-get install fonts-dejavu-core")


def words(text: str) -> set[str]:
    return {w.strip(",.").casefold() for w in text.split()}


class TestOcrImage:
    def test_reads_ukrainian_russian_and_english(self, tmp_path):
        found = words(ocr_image(save_text_image(tmp_path / "lines.png")))
        assert {"київ", "хрещатик", "обстріл", "житлового", "будинку"} <= found  # Ukrainian
        assert {"обстрел", "жилого", "дома", "харькове"} <= found  # Russian
        assert {"shelling", "residential", "building"} <= found

    def test_reads_a_decoded_image(self):
        assert "хрещатик" in words(ocr_image(text_image(["вулиця Хрещатик"])))

    def test_small_text_is_enlarged_before_reading(self, tmp_path):
        path = save_text_image(tmp_path / "small.png", ["Обстріл житлового будинку"], size=12)
        assert {"обстріл", "житлового"} <= words(ocr_image(path))

    def test_dark_text_on_transparency_is_laid_over_white(self, tmp_path):
        image = text_image(["Обстріл будинку"], mode="RGBA", background=(0, 0, 0, 0))
        image.save(tmp_path / "clear.png")
        assert "обстріл" in words(ocr_image(tmp_path / "clear.png"))

    def test_a_one_pixel_image_has_no_text(self, tmp_path):
        Image.new("RGB", (1, 1), "white").save(tmp_path / "dot.png")
        assert ocr_image(tmp_path / "dot.png") == ""

    def test_a_blank_image_has_no_text(self, tmp_path):
        Image.new("L", (800, 600), 255).save(tmp_path / "blank.png")
        assert ocr_image(tmp_path / "blank.png") == ""

    def test_a_100_megapixel_photo_is_reduced_and_read(self, tmp_path):
        lines = text_image(["КИЇВ Хрещатик"], size=200)
        big = Image.new("L", (12_000, 8_400), 255)
        big.paste(lines, (300, 300))
        big.save(tmp_path / "big.jpg", quality=85)
        started = time.monotonic()
        assert "хрещатик" in words(ocr_image(tmp_path / "big.jpg"))
        assert time.monotonic() - started < 30

    def test_more_pixels_than_the_guard_allows_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.setattr(text_module, "MAX_IMAGE_PIXELS", 1_000)
        save_text_image(tmp_path / "lines.png")
        with pytest.raises(ExtractionError, match="expected an image of 1 to 1000 pixels; "
                                                  r"found \d+x\d+"):
            ocr_image(tmp_path / "lines.png")

    def test_truncated_image(self, tmp_path):
        save_text_image(tmp_path / "whole.jpg")
        (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:2_000])
        with pytest.raises(ExtractionError, match="truncated or corrupt image"):
            ocr_image(tmp_path / "cut.jpg")

    def test_not_an_image(self, tmp_path):
        (tmp_path / "noise.png").write_bytes(bytes(range(256)) * 4)
        with pytest.raises(ExtractionError, match="expected an image Pillow can decode"):
            ocr_image(tmp_path / "noise.png")

    def test_a_file_named_like_an_option_is_just_a_file(self, tmp_path, monkeypatch):
        save_text_image(tmp_path / "--help.png", ["Хрещатик"])
        monkeypatch.chdir(tmp_path)
        assert "хрещатик" in words(ocr_image("--help.png"))

    def test_every_page_of_a_multi_page_tiff(self, tmp_path):
        first, second = text_image(["Перша сторінка"]), text_image(["Друга сторінка"])
        first.save(tmp_path / "fax.tif", save_all=True, append_images=[second])
        pages = image_text(tmp_path / "fax.tif")
        assert [p.page for p in pages] == [1, 2]
        assert "перша" in words(pages[0].text) and "друга" in words(pages[1].text)


class TestTesseractProblems:
    def test_tesseract_missing(self, tmp_path, monkeypatch):
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        with pytest.raises(OcrUnavailable, match="tesseract is not installed.*install "
                                                 "tesseract-ocr"):
            ocr_image(text_image(["x"]))

    def test_language_pack_missing(self):
        with pytest.raises(OcrUnavailable, match="missing for xqx; install tesseract-ocr-xqx"):
            ocr_image(text_image(["x"]), languages=("ukr", "xqx"))

    @pytest.mark.parametrize("language", ["-c", "ukr+eng", "", "../ukr", "u kr"])
    def test_language_codes_are_not_options(self, language):
        with pytest.raises(ExtractionError, match="expected a tesseract language code"):
            ocr_image(text_image(["x"]), languages=(language,))

    def test_time_limit(self, tmp_path, monkeypatch):
        fake = tmp_path / "bin" / "tesseract"
        fake.parent.mkdir()
        fake.write_text('#!/bin/sh\nif [ "$1" = --list-langs ]; then\n'
                        '  echo "List of available languages"; echo ukr; echo rus; echo eng\n'
                        '  exit 0\nfi\nexec /bin/sleep 30\n')
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", str(fake.parent))
        started = time.monotonic()
        with pytest.raises(ExtractionError, match="did not finish within 0.5 s"):
            ocr_image(text_image(["Київ"]), timeout_s=0.5)
        assert time.monotonic() - started < 10

    def test_tesseract_failing_says_why(self, tmp_path, monkeypatch):
        fake = tmp_path / "bin" / "tesseract"
        fake.parent.mkdir()
        fake.write_text('#!/bin/sh\nif [ "$1" = --list-langs ]; then\n'
                        '  echo "List of available languages"; echo ukr; echo rus; echo eng\n'
                        '  exit 0\nfi\necho "Error in pixReadMem: unknown format" >&2\n'
                        'exit 1\n')
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", str(fake.parent))
        with pytest.raises(ExtractionError, match="exit status 1: Error in pixReadMem"):
            ocr_image(text_image(["Київ"]))


class TestPdfText:
    def test_text_layer_page_by_page(self, tmp_path):
        path = text_layer_pdf(tmp_path / "doc.pdf", [["Протокол огляду", "КИЇВ"],
                                                     ["Second page"]])
        pages = pdf_text(path)
        assert [(p.page, p.method) for p in pages] == [(1, "text-layer"), (2, "text-layer")]
        assert pages[0].text == "Протокол огляду\nКИЇВ"
        assert pages[1].text == "Second page"

    def test_a_scanned_page_is_ocr_d(self, tmp_path):
        pages = pdf_text(scanned_pdf(tmp_path / "scan.pdf"))
        assert len(pages) == 1 and pages[0].method == "ocr"
        assert {"київ", "обстріл", "shelling"} <= words(pages[0].text)

    def test_a_scan_with_a_stamped_page_number_is_ocr_d(self, tmp_path):
        import pypdfium2 as pdfium

        scan = pdfium.PdfDocument(scanned_pdf(tmp_path / "scan.pdf"))
        stamp = pdfium.PdfDocument(text_layer_pdf(tmp_path / "stamp.pdf", [["p. 1"]]))
        page = scan[0]
        xobject = stamp.page_as_xobject(0, scan)
        page.insert_obj(xobject.as_pageobject())
        page.gen_content()
        scan.save(tmp_path / "stamped.pdf")
        pages = pdf_text(tmp_path / "stamped.pdf")
        assert pages[0].method == "ocr" and "обстріл" in words(pages[0].text)

    def test_without_ocr_a_scanned_page_is_empty(self, tmp_path):
        pages = pdf_text(scanned_pdf(tmp_path / "scan.pdf"), ocr_pages_without_text=False)
        assert [(p.text, p.method) for p in pages] == [("", "text-layer")]

    def test_only_the_first_pages(self, tmp_path):
        path = text_layer_pdf(tmp_path / "long.pdf", [[f"page {n} text"] for n in range(5)])
        assert [p.page for p in pdf_text(path, max_pages=2)] == [1, 2]

    def test_password_protected(self, tmp_path):
        plain = text_layer_pdf(tmp_path / "plain.pdf", [["Таємно"]])
        with pytest.raises(ExtractionError, match="password-protected"):
            pdf_text(encrypted_pdf(tmp_path / "locked.pdf", plain))

    @pytest.mark.parametrize("content", [b"", b"%PDF-1.7\n garbage", b"not a pdf at all"])
    def test_corrupt(self, tmp_path, content):
        (tmp_path / "bad.pdf").write_bytes(content)
        with pytest.raises(ExtractionError, match="expected a readable PDF"):
            pdf_text(tmp_path / "bad.pdf")

    def test_truncated(self, tmp_path):
        whole = text_layer_pdf(tmp_path / "whole.pdf", [["Протокол"]] * 3).read_bytes()
        (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) // 2])
        try:
            pages = pdf_text(tmp_path / "cut.pdf", ocr_pages_without_text=False)
        except ExtractionError:
            return  # refusing is fine; crashing or hanging is not
        assert all(p.page >= 1 for p in pages)

    def test_tesseract_missing_only_matters_for_scans(self, tmp_path, monkeypatch):
        path = text_layer_pdf(tmp_path / "doc.pdf", [["Протокол огляду місця події"]])
        scan = scanned_pdf(tmp_path / "scan.pdf")
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        assert pdf_text(path)[0].text == "Протокол огляду місця події"
        with pytest.raises(OcrUnavailable, match="install tesseract-ocr"):
            pdf_text(scan)


def test_clean_text_removes_what_databases_refuse():
    assert clean_text("a\x00b\r\nc\x07\n\n\n\nd  \n") == "ab\nc\n\nd"
