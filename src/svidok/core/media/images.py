"""Image thumbnails: decoding under a decompression-bomb guard, EXIF orientation.

JPEGs are decoded at reduced scale (``Image.draft``) for thumbnails; Pillow
releases the GIL while decoding, so this runs beside the exiftool thread.
Also holds the helpers every derived JPEG uses (:func:`new_output`,
:func:`discard`, :data:`THUMBNAIL_QUALITY`).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from svidok.core.media.pdq import WORK_SIZE, pdq_dihedral, work_copy
from svidok.core.media.report import DerivedFile, Report
from svidok.core.media.robust import ingest_hashes

THUMBNAIL_QUALITY = 85
# The decompression-bomb guard: images with more pixels are not decoded (a
# 100-megapixel photo still is).
MAX_IMAGE_PIXELS = 150_000_000


# Our own limit (checked in make_thumbnail) governs; Pillow's warning would only
# repeat it. One filter, set once, because warnings.catch_warnings() is not
# thread-safe and thumbnails are decoded on several threads. Pillow's hard
# DecompressionBombError still applies.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def new_output(workdir: Path, kind: str) -> Path:
    """A fresh, empty, uniquely named JPEG path under ``workdir``."""
    descriptor, name = tempfile.mkstemp(prefix=f"{kind}-", suffix=".jpg", dir=workdir)
    os.close(descriptor)
    return Path(name)


def discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _to_rgb(image: Image.Image) -> Image.Image:
    """An RGB or L image for JPEG; transparency is laid over white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit greys: keep the high byte rather than clipping at 255.
        return image.point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _pillow_media_types() -> frozenset[str]:
    Image.init()
    return frozenset(value.lower() for value in Image.MIME.values())


def make_thumbnail(report: Report, *, workdir: Path, size: int, max_pixels: int,
                   perceptual: bool = True) -> None:
    """Add a JPEG thumbnail (longest side ``size``, EXIF orientation applied), or errors;
    with ``perceptual``, the perceptual hashes of the same decoded copy too."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        report.error(
            "thumbnail skipped: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is enabled in this process, "
            "so a truncated image could not be told from a whole one"
        )
        return
    try:
        image = Image.open(report.path)
    except Image.DecompressionBombError as exc:
        report.error(f"decompression bomb: {exc}")
        return
    except UnidentifiedImageError as exc:
        if report.media_type in _pillow_media_types():
            report.error(f"truncated or corrupt image: {exc}")
        else:
            report.error(f"unsupported image format: Pillow cannot decode {report.media_type}")
        return
    except Exception as exc:
        report.error(f"truncated or corrupt image: {exc}")
        return
    with image:
        width, height = image.size
        report.summary["width"], report.summary["height"] = width, height
        if width < 1 or height < 1:
            report.error(f"truncated or corrupt image: it claims {width}x{height} pixels")
            return
        if width * height > max_pixels:
            report.error(
                f"decompression bomb: {width}x{height} pixels exceeds the limit of "
                f"{max_pixels} pixels"
            )
            return
        # Decoded once, at reduced scale, for the perceptual hash and the thumbnail.
        # The longest side at least WORK_SIZE: draft() keeps both sides at least as
        # large as asked, so asking for a square would decode landscape photos whole.
        scale = max(size, WORK_SIZE) / max(width, height)
        wanted = (max(1, round(width * scale)), max(1, round(height * scale)))
        try:
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", wanted)  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
            work = work_copy(_to_rgb(image))
        except Image.DecompressionBombError as exc:
            report.error(f"decompression bomb: {exc}")
            return
        except Exception as exc:  # truncated data, broken streams, decoder errors
            report.error(f"truncated or corrupt image: {exc}")
            return
        work = _apply_orientation(report, image, work)
        if perceptual:
            _perceptual_hash(report, work)
        thumbnail = work  # the hash is taken: the work copy may now shrink in place
        # BILINEAR after a draft-scale decode looks the same as LANCZOS at a third
        # of the cost (Pillow antialiases when it shrinks).
        thumbnail.thumbnail((size, size), Image.Resampling.BILINEAR)
        try:
            output = new_output(workdir, "thumbnail")
        except OSError as exc:
            report.error(f"thumbnail could not be written: {exc}")
            return
        try:
            thumbnail.save(output, "JPEG", quality=THUMBNAIL_QUALITY)
        except Exception as exc:
            discard(output)
            report.error(f"thumbnail could not be written: {exc}")
            return
        report.derived.append(
            DerivedFile(
                kind="thumbnail",
                path=output,
                media_type="image/jpeg",
                details={"width": thumbnail.width, "height": thumbnail.height},
            )
        )


def _perceptual_hash(report: Report, shown: Image.Image) -> None:
    """PDQ of the image as shown, and of its rotations and mirror images (so copies
    turned either way can be linked later without decoding it again); a failure is
    an extraction error, not a lost file."""
    try:
        variants = pdq_dihedral(shown)  # all eight cost what one does (one DCT)
    except Exception as exc:
        report.error(f"perceptual hash could not be computed: {exc}")
        return
    report.perceptual.update(variants[0].to_json())
    report.perceptual["dihedral"] = [variant.hex for variant in variants]
    try:
        # Hashes of the picture without its borders, and of its centre: a re-post
        # that cropped or framed it is found through these (svidok.core.media.robust).
        more = ingest_hashes(shown, own_quality=variants[0].quality)
    except Exception as exc:
        report.error(f"extra perceptual hashes could not be computed: {exc}")
        return
    report.perceptual["extra"] = [{"label": label, **value.to_json()}
                                  for label, value in more.extra]
    # A featureless picture inside a caption or screenshot frame must match nothing.
    report.perceptual["picture_quality"] = more.picture_quality


# Pillow's own table, as in ImageOps.exif_transpose.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _apply_orientation(report: Report, source: Image.Image, thumbnail: Image.Image) -> Image.Image:
    """Turn the thumbnail as the EXIF (or XMP) orientation of ``source`` says.

    The orientation is read from the source image because colour conversion
    may have produced a new image without the original's EXIF.
    """
    try:
        orientation = source.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception as exc:
        report.error(f"could not read the EXIF orientation; thumbnail left as stored: {exc}")
        return thumbnail
    method = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return thumbnail.transpose(method) if method is not None else thumbnail
