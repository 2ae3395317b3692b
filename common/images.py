"""Cleaning uploaded photos before they are stored.

Every photo a user uploads (a case, a work-log entry, a result) goes through `image_clean`: the content
is checked (never the file name or the browser's content type), decoded with a pixel limit, turned the
right way up, shrunk so its long side is at most `max_side`, and re-encoded as a baseline JPEG with no
EXIF, GPS, ICC or comment data. What is stored is therefore always a small, metadata-free JPEG.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from common.errors import DomainError

# Before cleaning: what a phone camera can produce (a 12–50 MP JPEG is 3–9 MB); the filing page shrinks
# photos on the device first, so real uploads are far smaller.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Against decompression bombs: a tiny PNG can claim 100,000 × 100,000 pixels. 50 MP covers every phone
# camera's default output; the header is checked before any pixel is decoded.
MAX_PIXELS = 50_000_000
# Enough to read a meter, a crack in a wall or a document on a phone or a county screen.
MAX_SIDE = 1600
JPEG_QUALITY = 82
# Formats a phone or a desktop would send. HEIC is not decodable here: phones' browsers convert it to
# JPEG when a page asks for image/*, and the filing page re-encodes on the device anyway.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")

FIELD = "photos"


@dataclass(frozen=True)
class CleanImage:
    """A cleaned photo: JPEG bytes without metadata, its pixel size and the SHA-256 of the bytes."""

    content: bytes
    width: int
    height: int
    sha256: str

    @property
    def size_bytes(self) -> int:
        return len(self.content)


def _read_limited(upload: Any, max_bytes: int) -> bytes:
    """The upload's bytes, refusing (without reading further) anything over `max_bytes`."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise _too_large(max_bytes)
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
    else:
        if hasattr(upload, "seek"):
            with contextlib.suppress(OSError, ValueError):
                upload.seek(0)
        chunks: Iterable[bytes]
        if hasattr(upload, "chunks"):
            chunks = upload.chunks()
        else:
            stream: IO[bytes] = upload
            chunks = iter(lambda: stream.read(64 * 1024), b"")
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            if len(buffer) > max_bytes:
                raise _too_large(max_bytes)
        data = bytes(buffer)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise DomainError("image_empty", _("照片文件是空的，请重新选择。"), field=FIELD)
    return data


def _too_large(max_bytes: int) -> DomainError:
    megabytes = max_bytes // (1024 * 1024)
    return DomainError(
        "image_too_large",
        _("照片太大：每张不能超过 %(mb)s MB。") % {"mb": megabytes},
        field=FIELD,
        max_bytes=max_bytes,
    )


def _not_an_image() -> DomainError:
    return DomainError(
        "image_invalid",
        _("这不是可识别的照片（支持 JPEG、PNG、WebP、GIF、BMP），或文件已损坏，请重新拍摄或选择。"),
        field=FIELD,
    )


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB image; transparent areas become white (a JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: scale into 8 bits instead of clipping everything to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def image_clean(
    upload: Any,
    *,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_side: int = MAX_SIDE,
    quality: int = JPEG_QUALITY,
) -> CleanImage:
    """Check and re-encode one uploaded photo.

    `upload` is a Django UploadedFile, a binary file object or bytes. Returns a CleanImage whose content
    is a JPEG with the EXIF orientation applied and every metadata block dropped, long side at most
    `max_side`. Raises only DomainError (field "photos"): image_empty, image_too_large (over `max_bytes`
    before cleaning), image_too_many_pixels (over `max_pixels`, checked from the header before decoding),
    image_invalid (not an image, an unsupported format, or a truncated/corrupt file).
    """
    data = _read_limited(upload, max_bytes)
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:
        # Pillow's parsers raise many kinds of errors on hostile input (OSError, SyntaxError,
        # ValueError, struct.error, ...); all of them mean "not an image we can read".
        raise _not_an_image() from exc

    width, height = image.size
    if width < 1 or height < 1:
        raise _not_an_image()
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)

    try:
        if image.format == "JPEG":
            # Decode at a reduced scale (1/2, 1/4, 1/8) when that is still at least max_side: much less
            # memory and CPU for a 12 MP phone photo. The orientation is read from EXIF afterwards.
            image.draft("RGB", (max_side, max_side))
        image.load()
        try:
            oriented = ImageOps.exif_transpose(image)
        except Exception:
            # A broken EXIF block must not lose the photo: keep it as stored.
            oriented = image
        oriented = _flatten(oriented)
        oriented.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        # Pillow's JPEG writer falls back to im.info for some blocks (the comment): start from nothing.
        oriented.info = {}
        out = io.BytesIO()
        # No exif=, icc_profile= or comment=: the saved JPEG carries pixels only.
        oriented.save(out, format="JPEG", quality=quality, optimize=False, progressive=False)
    except DomainError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:
        # Truncated data ("image file is truncated"), broken chunks and decoder errors all land here.
        raise _not_an_image() from exc
    finally:
        image.close()

    content = out.getvalue()
    return CleanImage(
        content=content,
        width=oriented.width,
        height=oriented.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _too_many_pixels(max_pixels: int) -> DomainError:
    return DomainError(
        "image_too_many_pixels",
        _("照片像素过多（超过 %(mp)s 百万像素），请降低拍摄分辨率后重试。") % {"mp": max_pixels // 1_000_000},
        field=FIELD,
        max_pixels=max_pixels,
    )
