"""Near-duplicate matching that survives what re-posts do to a picture.

Plain PDQ (:mod:`svidok.core.media.pdq`) finds re-encoded, resized, recoloured,
turned and mirrored copies, but a crop of a few percent, added borders, a
caption bar or a screen recording with interface around the picture move its
hash beyond the match threshold. The matching here works in three steps:

1. At ingest, besides the hash of the image as it is, a few extra hashes are
   stored (:func:`extra_hashes`): of the image with uniform borders trimmed
   (when it had any) and of a central crop.
2. A query tries more hashes (:func:`query_hashes`): the eight turns of the
   image, of the border-trimmed image, of the image without caption or
   interface bars, and of central crops. Its best distance to a candidate's
   stored hashes is the candidate's distance.
3. :func:`same_picture` decides. A distance up to :data:`~svidok.core.media.pdq.MAX_DISTANCE`
   is a match, as with plain PDQ; a distance up to :data:`CONFIRM_DISTANCE` is
   a match only when local features confirm it (:func:`geometric_match`): ORB
   keypoints matched with a ratio test, a rotation–scale–translation fitted by
   RANSAC, and the two pictures compared pixel by pixel where they overlap, so
   that a shared interface, a texture or the same place seen from elsewhere does
   not count as the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from svidok.core.media.pdq import (
    CONFIRM_DISTANCE,
    MAX_DISTANCE,
    PdqHash,
    pdq_dihedral,
    pdq_of,
    work_copy,
)

__all__ = [
    "CONFIRM_DISTANCE",
    "Decision",
    "Features",
    "GeometricMatch",
    "best_distance",
    "extra_hashes",
    "features_of",
    "geometric_match",
    "query_hashes",
    "same_picture",
    "trim_borders",
]


# Border trimming: a line (row or column) belongs to a border when nearly all its
# pixels are within TRIM_TOLERANCE (per channel, 0–255) of the border's colour,
# which is the median colour of the outermost line. JPEG ringing next to the
# picture stays within this tolerance for all but a few percent of a line.
TRIM_TOLERANCE = 24
TRIM_FRACTION = 0.97
MIN_KEPT = 0.1  # a trim that would keep less than this of a side is no border: keep all
MAX_BORDER = 0.3  # a uniform run deeper than this share of a side is picture, not border
PICTURE_CENTRE = 0.6  # share of each side whose detail decides whether there is a picture
MIN_TRIMMED = 0.02  # trims smaller than this share of a side do not earn their own hash

# Bars of captions and of an application's interface: lines where a single colour
# covers most of the line (text and icons leave the rest).
BAR_FRACTION = 0.5
BAR_TOLERANCE = 12
MAX_BAR = 0.45  # bars never take more than this share of a side

STORED_CROP = 0.8  # extra stored hash: the central 80 % of each side
QUERY_CROPS = (0.8, 0.64)
# Query windows per axis, (start, end) as shares of the query's picture. Stored is the
# central 80 % of a picture; a copy cut by c = 5-10 % on one side holds that window at
# about (0.03, 0.89) or (0.11, 0.97); cut on both sides by 5 %, at (0.06, 0.94). An
# original of a stored cut copy holds the copy's centre at about (0.075, 1) or (0, 0.925).
_FORWARD = ((0.1, 0.9), (0.03, 0.89), (0.11, 0.97))
_REVERSE = ((0.0, 1.0), (0.075, 1.0), (0.0, 0.925))
WINDOWS: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = (
    *((x, y) for x in _FORWARD for y in _FORWARD if (x, y) != ((0.1, 0.9), (0.1, 0.9))),
    ((0.06, 0.94), (0.06, 0.94)),
    *((x, y) for x in _REVERSE for y in _REVERSE if (x, y) != ((0.0, 1.0), (0.0, 1.0))),
)
WINDOW_SIZE = 256  # windows are hashed on a copy at most this large
INSET_AREA = (0.06, 0.85)  # share of the image a picture set inside it may cover
INSET_SIDE = 0.2  # and of each side: narrower is a strip (a caption bar, a toolbar)
MAX_INSETS = 3
INSET_PAD = 4
FRAME_TOLERANCE = 2  # grey levels a pixel may differ from its neighbours and still be flat
FRAME_SHARE = 0.6  # share of the area around an inset that is flat, in an interface
PANEL_STD = 2.0  # grey standard deviation below which an inset is a plain panel, not a picture

FEATURE_SIZE = 480  # local features are found on copies scaled to this longest side
ORB_FEATURES = 1500
RATIO = 0.8  # Lowe's ratio test for the two nearest descriptors
RANSAC_PIXELS = 6.0  # reprojection error, at FEATURE_SIZE, still counted as an inlier
MIN_INLIERS = 15
MIN_INLIER_RATIO = 0.15
MIN_AGREEMENT = 0.96  # share of the overlap's cells whose pixels agree, to confirm
VETO_AGREEMENT = 0.5  # aligned, yet fewer cells agree: a shared frame around other pictures
CELL_CORRELATION = 0.6
FLAT = 8.0  # a cell whose blurred grey values vary less than this is flat
CELL_DIFFERENCE = 12  # cells agree when their grey values differ by less than this on average
MIN_COVER = 0.05  # the overlap covers at least this share of each image…
MIN_COVER_MAX = 0.5  # …and this share of one of them
GRID = 8

Box = tuple[int, int, int, int]  # left, top, right, bottom


# --------------------------------------------------------------------------- trimming


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.int16)


def _uniform_run(lines: np.ndarray, tolerance: int, fraction: float) -> int:
    """How many leading lines of ``lines`` (n, length, 3) are of the first line's colour.

    Read from the edge inwards in growing chunks: most photos have no border, and
    a border is a small share of its side, so the whole image is rarely touched
    (at ingest this runs for every photo)."""
    reference = np.median(lines[0], axis=0)
    count, step = 0, 8
    while count < len(lines):
        chunk = lines[count:count + step]
        close = (np.abs(chunk - reference).max(axis=2) <= tolerance).mean(axis=1) >= fraction
        if not close.all():
            return count + int(np.argmin(close))
        count += len(chunk)
        step *= 2
    return len(lines)


def _dominant_run(lines: np.ndarray, tolerance: int, fraction: float, limit: int) -> int:
    """How many leading lines each have one colour (their own median) over ``fraction``."""
    count = 0
    for line in lines[:limit]:
        reference = np.median(line, axis=0)
        if (np.abs(line - reference).max(axis=1) <= tolerance).mean() < fraction:
            break
        count += 1
    return count


def _border_box(pixels: np.ndarray) -> Box:
    height, width = pixels.shape[:2]

    def run(lines: np.ndarray) -> int:
        # A uniform run deeper than MAX_BORDER of its side is the picture (a sky, a
        # wall), not a border: trimming it would leave a caption or a sliver.
        found = _uniform_run(lines, TRIM_TOLERANCE, TRIM_FRACTION)
        return found if found <= MAX_BORDER * len(lines) else 0

    top, bottom = run(pixels), run(pixels[::-1])
    left, right = run(pixels.transpose(1, 0, 2)), run(pixels.transpose(1, 0, 2)[::-1])
    return left, top, width - right, height - bottom


def _bar_box(pixels: np.ndarray) -> Box:
    """Bars above and below the picture (captions, an app's interface); rows only: a
    column through a picture framed by interface above and below is mostly interface."""
    height, width = pixels.shape[:2]
    top = _dominant_run(pixels, BAR_TOLERANCE, BAR_FRACTION, int(height * MAX_BAR))
    bottom = _dominant_run(pixels[::-1], BAR_TOLERANCE, BAR_FRACTION, int(height * MAX_BAR))
    return 0, top, width, height - bottom


def _sensible(box: Box, size: tuple[int, int]) -> bool:
    left, top, right, bottom = box
    width, height = size
    return right - left >= max(1, MIN_KEPT * width) and bottom - top >= max(1, MIN_KEPT * height)


def _trim(image: Image.Image, find: Any, rounds: int = 3) -> Image.Image:
    """Crop to ``find``'s box repeatedly (a border inside a border), while it shrinks."""
    current = image
    for _ in range(rounds):
        box = find(_rgb(current))
        if box == (0, 0, *current.size) or not _sensible(box, current.size):
            break
        current = current.crop(box)
    return current


def trim_borders(image: Image.Image) -> Image.Image:
    """The image without uniform borders, letterbox or pillarbox bars.

    Each side is trimmed while its lines stay within :data:`TRIM_TOLERANCE` of the
    colour of its outermost line for at least :data:`TRIM_FRACTION` of their pixels;
    each side has its own colour. An image that is uniform, or would keep less
    than :data:`MIN_KEPT` of a side, is returned whole. The input is not changed.
    """
    return _trim(image, _border_box)


def _trim_bars(image: Image.Image) -> Image.Image:
    """The image without borders and without bars of one colour carrying text or icons."""
    return _trim(trim_borders(image), _bar_box)


def _central(image: Image.Image, keep: float) -> Image.Image:
    width, height = image.size
    dx, dy = round(width * (1 - keep) / 2), round(height * (1 - keep) / 2)
    return image.crop((dx, dy, width - dx, height - dy))


def _inset_boxes(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Rectangles ``(x, y, width, height)`` of pictures set inside the image: the largest
    with sharp straight edges (a photo in an app's screenshot, a picture on a web page),
    at most :data:`MAX_INSETS`, largest first. Edges are found with Canny; a rectangle
    must cover :data:`INSET_AREA` of the image and fill its outline."""
    grey = np.asarray(image.convert("L"))
    height, width = grey.shape
    # Padded with the frame's usual grey, so a picture as wide as the screen (a phone
    # app) still has edges on all four sides.
    outer = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    pad = INSET_PAD
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                value=int(np.median(outer)))
    edges = cv2.dilate(cv2.Canny(padded, 50, 150), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[tuple[int, int, int, int]] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        x, y, w, h = max(0, x - pad), max(0, y - pad), min(w, width), min(h, height)
        share = w * h / (width * height)
        if not INSET_AREA[0] <= share <= INSET_AREA[1] or min(w / width, h / height) < INSET_SIDE:
            continue  # too small, too large, or a strip (a caption bar, a toolbar)
        if cv2.contourArea(contour) < 0.9 * w * h:
            continue  # not a rectangle's outline
        if any(abs(x - a) + abs(y - b) + abs(x + w - a - c) + abs(y + h - b - d) < 12
               for a, b, c, d in boxes):
            continue  # the same rectangle again (the inner and outer side of its edge)
        boxes.append((x, y, w, h))
    boxes.sort(key=lambda box: -box[2] * box[3])
    return boxes[:MAX_INSETS]


def _crop_inset(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    x, y, w, h = box
    return image.crop((x + 2, y + 2, x + w - 2, y + h - 2))


def _insets(image: Image.Image) -> list[Image.Image]:
    """The pictures of :func:`_inset_boxes`, cropped just inside their edges."""
    return [_crop_inset(image, box) for box in _inset_boxes(image)]


def _screen_frame(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    """Whether what lies around ``box`` is an interface (flat panels, bars, text and
    icons) rather than more of a scene (a wall around a sign, a street around a door):
    at least :data:`FRAME_SHARE` of it flat, each pixel within :data:`FRAME_TOLERANCE`
    grey levels of its neighbours (camera noise and texture are never that flat)."""
    grey = np.asarray(image.convert("L"))
    x, y, w, h = box
    outside = np.ones(grey.shape, dtype=bool)
    outside[y:y + h, x:x + w] = False
    if outside.sum() < 0.1 * grey.size:
        return False
    kernel = np.ones((3, 3), np.uint8)
    spread = cv2.dilate(grey, kernel).astype(np.int16) - cv2.erode(grey, kernel)
    return float((spread[outside] <= FRAME_TOLERANCE).mean()) >= FRAME_SHARE


def _is_panel(inset: Image.Image) -> bool:
    """A rectangle of one colour (a box in a drawing, a blank screen) is no picture: it
    must not make the image around it unmatchable."""
    return float(np.asarray(inset.convert("L"), dtype=np.float32).std()) < PANEL_STD


def _window(image: Image.Image, x: tuple[float, float], y: tuple[float, float]) -> Image.Image:
    width, height = image.size
    return image.crop((round(width * x[0]), round(height * y[0]),
                       round(width * x[1]), round(height * y[1])))


def _differs(trimmed: Image.Image, image: Image.Image) -> bool:
    return (trimmed.width < image.width * (1 - MIN_TRIMMED)
            or trimmed.height < image.height * (1 - MIN_TRIMMED))


# --------------------------------------------------------------------------- hashes


def picture_quality(image: Image.Image) -> int:
    """PDQ quality of the picture itself, not of its frame (borders, captions, an app's
    interface).

    A featureless picture (a night sky, a plain wall) inside a caption or a
    screenshot gets a matchable hash from its frame alone, and two such frames
    look alike whatever they hold: below 50 here, the image must match nothing.
    A picture set in an interface (:func:`_inset_boxes` whose surroundings are
    :func:`_screen_frame`, not a one-colour :func:`_is_panel`) is measured on its
    own: the poorest of nested ones. Otherwise a bordered image is measured on the
    central :data:`PICTURE_CENTRE` of the border-trimmed image (captions, app bars
    and sidebars sit at the edges, the picture in the middle), and an image without
    a frame is its own picture: its quality is its hash's. A photo of a plain sign
    or door inside a textured scene is not an interface, so it stays matchable.
    """
    return ingest_hashes(image).picture_quality


def extra_hashes(image: Image.Image) -> list[tuple[str, PdqHash]]:
    """The hashes to store for an image besides the hash of the image as it is.

    ``trimmed``: the image without uniform borders, when it had borders;
    ``centre``: the central :data:`STORED_CROP` of the (trimmed) image. Only
    hashes of matchable quality are returned, so at most two rows per image.
    """
    return ingest_hashes(image).extra


@dataclass(frozen=True)
class IngestHashes:
    """What ingest keeps besides the image's own hashes (one border trim for both)."""

    extra: list[tuple[str, PdqHash]]
    picture_quality: int


def ingest_hashes(image: Image.Image, *, own_quality: int | None = None) -> IngestHashes:
    """:func:`extra_hashes` and :func:`picture_quality` of an image, trimming it once.

    ``own_quality`` is the quality of the image's own hash when the caller has it:
    for an image without a frame it is the picture's quality, and saves a hash.
    """
    work = work_copy(image)
    trimmed = trim_borders(work)
    bordered = _differs(trimmed, work)
    extra: list[tuple[str, PdqHash]] = []
    if bordered:
        extra.append(("trimmed", pdq_of(trimmed)))
    screens = [box for box in _inset_boxes(work)
               if _screen_frame(work, box) and not _is_panel(_crop_inset(work, box))]
    if screens:
        # A picture in an interface: of nested ones (a card around a photo) the poorest
        # decides, so the card's caption lends the photo no detail it lacks.
        picture = min(pdq_of(_crop_inset(work, box)).quality for box in screens)
    elif bordered:
        picture = pdq_of(_central(trimmed, PICTURE_CENTRE)).quality
    else:
        picture = own_quality if own_quality is not None else pdq_of(work).quality
    extra.append(("centre", pdq_of(_central(trimmed, STORED_CROP))))
    return IngestHashes(extra=[(label, value) for label, value in extra if value.matchable],
                        picture_quality=picture)


def query_hashes(image: Image.Image) -> list[tuple[str, PdqHash]]:
    """The hashes a query tries against every stored hash, each with a label.

    The eight turns (:func:`~svidok.core.media.pdq.pdq_dihedral`) of the image,
    of its border-trimmed copy and of the copy without caption or interface
    bars (when these differ), and of central crops of the last of these.
    Labels read ``source/turn``, e.g. ``trimmed/5`` (turn 5: mirrored left–right).
    Hashes of unmatchable quality are left out.
    """
    work = work_copy(image)
    sources: list[tuple[str, Image.Image]] = [("image", work)]
    trimmed = trim_borders(work)
    if _differs(trimmed, work):
        sources.append(("trimmed", trimmed))
    barless = _trim_bars(trimmed)
    if _differs(barless, trimmed):
        sources.append(("barless", barless))
    base = sources[-1][1]
    for number, inset in enumerate(_insets(work)):
        sources.append((f"inset{number + 1}", inset))
    for keep in QUERY_CROPS:
        sources.append((f"centre{round(keep * 100)}", _central(base, keep)))
    found: list[tuple[str, PdqHash]] = []
    for label, source in sources:
        for turn, value in enumerate(pdq_dihedral(source)):
            if value.matchable:
                found.append((f"{label}/{turn}", value))
    # Off-centre windows, as they are only (a turned and cropped copy is rarer): where
    # the stored centre of an original lies in a copy cut on one or two sides, and
    # where such a cut copy lies in an original. Placed by that geometry, not tuned.
    small = base.copy()
    small.thumbnail((WINDOW_SIZE, WINDOW_SIZE), Image.Resampling.BILINEAR)
    for x, y in WINDOWS:
        value = pdq_of(_window(small, x, y))
        if value.matchable:
            found.append(("window/0", value))
    return found


def best_distance(query: list[tuple[str, PdqHash]],
                  stored: list[tuple[str, PdqHash]]) -> tuple[int, str, str]:
    """The smallest distance between any query hash and any stored hash, and their labels
    (257 and empty labels when either list is empty)."""
    best = (257, "", "")
    for query_label, query_hash in query:
        for stored_label, stored_hash in stored:
            distance = query_hash.distance(stored_hash)
            if distance < best[0]:
                best = (distance, query_label, stored_label)
    return best


# --------------------------------------------------------------------------- local features


class Features:
    """ORB keypoints and descriptors of an image at :data:`FEATURE_SIZE` (grey)."""

    def __init__(self, grey: np.ndarray) -> None:
        self.grey = grey
        orb = cv2.ORB.create(nfeatures=ORB_FEATURES, edgeThreshold=15, patchSize=31,
                             fastThreshold=10)
        keypoints, descriptors = orb.detectAndCompute(grey, None)
        self.points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
        self.descriptors: np.ndarray | None = descriptors
        self._mirrored: Features | None = None

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.grey.shape[:2]
        return width, height

    def mirrored(self) -> Features:
        """The features of the left–right mirror image (computed once)."""
        if self._mirrored is None:
            self._mirrored = Features(np.ascontiguousarray(self.grey[:, ::-1]))
        return self._mirrored


def features_of(image: Image.Image) -> Features:
    """The local features of an image without its uniform borders (:func:`trim_borders`),
    for repeated :func:`geometric_match` calls."""
    grey = trim_borders(work_copy(image)).convert("L")
    scale = FEATURE_SIZE / max(grey.size)
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    grey = grey.resize(size, Image.Resampling.BILINEAR if scale > 1 else Image.Resampling.BOX)
    return Features(np.asarray(grey, dtype=np.uint8))


@dataclass(frozen=True, slots=True)
class GeometricMatch:
    """What local features say about two images.

    ``matches``: descriptor pairs passing the ratio test; ``inliers``: those
    consistent with one rotation–scale–translation; ``agreement``: the share of
    the cells of the overlap, once aligned, whose pixels correlate; ``mirrored``:
    the match was found with the second image mirrored; ``same``: the decision.
    """

    matches: int
    inliers: int
    inlier_ratio: float
    agreement: float
    mirrored: bool
    same: bool

    @property
    def aligned(self) -> bool:
        """Enough keypoints fit one rotation–scale–translation for the pixels to be compared."""
        return self.inliers >= MIN_INLIERS and self.inlier_ratio >= MIN_INLIER_RATIO

    @property
    def contradicts(self) -> bool:
        """Aligned, yet most of the overlap differs: what a frame (an app's interface, a
        caption bar, a border) shared by two different pictures looks like."""
        return self.aligned and self.agreement < VETO_AGREEMENT

    def to_json(self) -> dict[str, object]:
        return {"matches": self.matches, "inliers": self.inliers,
                "inlier_ratio": round(self.inlier_ratio, 3),
                "agreement": round(self.agreement, 3), "mirrored": self.mirrored,
                "same": self.same, "contradicts": self.contradicts}


NO_MATCH = GeometricMatch(0, 0, 0.0, 0.0, False, False)


def _agreement(a: Features, b: Features, transform: np.ndarray) -> float:
    """The share of cells of the overlap of ``a`` (moved onto ``b``) whose pixels agree.

    0 when the overlap is too small a part of either image to say (less than
    :data:`MIN_COVER` of one or :data:`MIN_COVER_MAX` of both): a repeated texture
    can align a scrap of one image with another at a strange scale. Brightness and
    contrast are matched over the whole overlap first (greyscale, recolouring);
    a cell then agrees when its pixels correlate or hardly differ.
    """
    width, height = b.size
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    source = a.grey if scale >= 0.8 else cv2.GaussianBlur(a.grey, (0, 0), 0.5 / scale)
    warped = cv2.warpAffine(source, transform, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(np.full(a.grey.shape, 255, np.uint8), transform, (width, height),
                          flags=cv2.INTER_NEAREST)
    inside_b = float((mask > 0).mean())
    inside_a = float((mask > 0).sum()) / (scale * scale * a.grey.size)
    if min(inside_a, inside_b) < MIN_COVER or max(inside_a, inside_b) < MIN_COVER_MAX:
        return 0.0
    ys, xs = np.nonzero(mask)
    left, right, top, bottom = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    blur_a = cv2.GaussianBlur(warped, (0, 0), 2.0).astype(np.float32)
    blur_b = cv2.GaussianBlur(b.grey, (0, 0), 2.0).astype(np.float32)
    # Blurring spreads each image's surroundings a few pixels into the overlap.
    overlap = cv2.erode(mask, np.ones((7, 7), np.uint8)) > 0
    if not overlap.any():
        return 0.0
    va, vb = blur_a[overlap], blur_b[overlap]
    gain = float(vb.std()) / max(float(va.std()), 1.0)
    blur_a = (blur_a - float(va.mean())) * gain + float(vb.mean())
    verdict = np.full((GRID, GRID), -1, dtype=np.int8)  # -1 outside, 0 differs, 1 agrees
    for row in range(GRID):
        for column in range(GRID):
            y0 = top + (bottom - top) * row // GRID
            y1 = top + (bottom - top) * (row + 1) // GRID
            x0 = left + (right - left) * column // GRID
            x1 = left + (right - left) * (column + 1) // GRID
            inside = overlap[y0:y1, x0:x1]
            if inside.size == 0 or inside.mean() < 0.5:
                continue
            pa, pb = blur_a[y0:y1, x0:x1][inside], blur_b[y0:y1, x0:x1][inside]
            sa, sb = float(pa.std()), float(pb.std())
            if max(sa, sb) < FLAT:  # little texture in either: compare the values
                verdict[row, column] = float(np.abs(pa - pb).mean()) < CELL_DIFFERENCE
            elif min(sa, sb) > 0:
                correlation = float(((pa - pa.mean()) * (pb - pb.mean())).mean() / (sa * sb))
                verdict[row, column] = correlation >= CELL_CORRELATION
            else:
                verdict[row, column] = 0
    cells = int((verdict >= 0).sum())
    if not cells:
        return 0.0
    differs = verdict == 0
    # A block of 2 x 2 cells that all differ is a picture of its own inside a shared frame
    # (an app's interface around two photos), not noise: it counts as no agreement.
    if (differs[:-1, :-1] & differs[1:, :-1] & differs[:-1, 1:] & differs[1:, 1:]).any():
        return 0.0
    return float((verdict == 1).sum()) / cells


def _match_once(a: Features, b: Features, mirrored: bool) -> GeometricMatch:
    if a.descriptors is None or b.descriptors is None or len(a.points) < 2 or len(b.points) < 2:
        return NO_MATCH
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return GeometricMatch(len(good), 0, 0.0, 0.0, mirrored, False)
    source = a.points[[m.queryIdx for m in good]]
    target = b.points[[m.trainIdx for m in good]]
    transform, inlier_mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS,
        maxIters=2000, confidence=0.995)
    if transform is None or inlier_mask is None:
        return GeometricMatch(len(good), 0, 0.0, 0.0, mirrored, False)
    inliers = int(inlier_mask.sum())
    ratio = inliers / len(good)
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if inliers < MIN_INLIERS or ratio < MIN_INLIER_RATIO or not 0.25 <= scale <= 4:
        return GeometricMatch(len(good), inliers, ratio, 0.0, mirrored, False)
    agreement = _agreement(a, b, transform)
    return GeometricMatch(len(good), inliers, ratio, agreement, mirrored,
                          agreement >= MIN_AGREEMENT)


def geometric_match(image_a: Image.Image | Features, image_b: Image.Image | Features, *,
                    mirror: bool | None = None) -> GeometricMatch:
    """Whether ``image_b`` shows the same picture as ``image_a``, by local features.

    ORB keypoints (at :data:`FEATURE_SIZE`), descriptor pairs kept by Lowe's ratio
    test, a rotation–scale–translation fitted by RANSAC; the pictures are the same
    when at least :data:`MIN_INLIERS` pairs (and :data:`MIN_INLIER_RATIO` of them)
    fit it and, once aligned, at least :data:`MIN_AGREEMENT` of the overlap's cells
    correlate. Features are not mirror-invariant: ``mirror`` True tries ``image_b``
    mirrored, False as it is, None (default) as it is and then mirrored. Images
    without keypoints (tiny, uniform) never match.
    """
    a = image_a if isinstance(image_a, Features) else features_of(image_a)
    b = image_b if isinstance(image_b, Features) else features_of(image_b)
    tries = {None: (False, True), False: (False,), True: (True,)}[mirror]
    results = []
    for mirrored in tries:
        result = _match_once(a, b.mirrored() if mirrored else b, mirrored)
        if result.same:
            return result
        results.append(result)
    return max(results, key=lambda r: (r.aligned, r.inliers))


# --------------------------------------------------------------------------- decision


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether two images show the same picture, and why."""

    same: bool
    distance: int
    reason: str
    geometry: GeometricMatch | None = None


def same_picture(query_image: Image.Image | Features, candidate_image: Image.Image | Features,
                 best: int, *, mirror: bool | None = None) -> Decision:
    """Whether a candidate found by its hashes shows the same picture as the query.

    ``best`` is the best distance of any of :func:`query_hashes` to any of the
    candidate's stored hashes. The rule:

    1. beyond :data:`CONFIRM_DISTANCE`: a different picture (no features looked at);
    2. up to ``MAX_DISTANCE`` (31, plain PDQ's threshold): the same picture, unless
       local features align the two images and then find most of the overlap
       different (:attr:`GeometricMatch.contradicts`): two pictures in the same
       frame, e.g. screenshots of one app or plain skies under the same caption bar;
    3. in between: the same picture only when local features confirm it
       (:attr:`GeometricMatch.same`).

    ``mirror`` is passed on to :func:`geometric_match` (True when the best query
    hash was a mirrored turn, see :func:`is_mirrored`).
    """
    if best > CONFIRM_DISTANCE:
        return Decision(False, best, "hash distance beyond the confirmation range")
    geometry = geometric_match(candidate_image, query_image, mirror=mirror)
    if best <= MAX_DISTANCE:
        if geometry.contradicts:
            return Decision(False, best, "aligned by local features, but the pixels differ",
                            geometry)
        return Decision(True, best, "hash distance within the PDQ threshold", geometry)
    reason = "confirmed by local features" if geometry.same else "not confirmed by local features"
    return Decision(geometry.same, best, reason, geometry)


MIRRORED_TURNS = frozenset({4, 5, 6, 7})


def is_mirrored(label: str) -> bool:
    """Whether a query label (``source/turn``) names a mirrored turn."""
    return int(label.rsplit("/", 1)[-1]) in MIRRORED_TURNS
