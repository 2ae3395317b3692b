"""Property-based tests (issue 9, Bad input) on common.images.image_clean, the checker every photo upload
goes through (case photos, work-log entries, points store items, canteen sites, industry results).

The contract: any bytes in give either a small metadata-free JPEG or a DomainError next to "photos" with a
Chinese message — truncated files, random bytes, the wrong format, an oversized upload and a decompression
bomb (a tiny file claiming a huge picture) included. Never another exception, never a picture that was not
checked.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from common.errors import DomainError
from common.images import MAX_PIXELS, image_clean

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CJK = re.compile(r"[\u4e00-\u9fff]")
CODES = {"image_empty", "image_too_large", "image_too_many_pixels", "image_invalid"}


def encoded(fmt: str, width: int, height: int, mode: str = "RGB", color: int = 90) -> bytes:
    image = Image.new(
        mode, (width, height), color if mode in ("L", "P", "1", "I", "F", "I;16") else (color, 20, 200)
    )
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG header (IHDR) for a picture of width × height, with one tiny IDAT: a bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def assert_clean_or_refused(data: bytes, **limits) -> None:
    refused: DomainError | None = None
    try:
        clean = image_clean(data, **limits)
    except DomainError as error:
        refused = error
    if refused is not None:
        assert refused.code in CODES, refused.code
        assert refused.field == "photos"
        assert CJK.search(str(refused.message)), refused.message
        return
    assert clean.content[:3] == b"\xff\xd8\xff"  # a JPEG
    with Image.open(io.BytesIO(clean.content)) as out:
        assert out.format == "JPEG"
        assert max(out.size) <= limits.get("max_side", 1600)
        assert not out.getexif()
        assert "icc_profile" not in out.info
        assert "comment" not in out.info


SMALL_IMAGES = st.builds(
    encoded,
    st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP"]),
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=1, max_value=64),
)


@PROPERTY
@given(SMALL_IMAGES)
def test_every_accepted_format_becomes_a_clean_jpeg(data):
    clean = image_clean(data)
    assert clean.content[:3] == b"\xff\xd8\xff"
    assert clean.size_bytes == len(clean.content)


@PROPERTY
@given(SMALL_IMAGES, st.data())
def test_a_truncated_photo_is_refused_or_still_a_clean_jpeg(data, draw):
    cut = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    assert_clean_or_refused(data[:cut])


@PROPERTY
@given(SMALL_IMAGES, st.data())
def test_a_photo_with_corrupted_bytes_is_refused_or_a_clean_jpeg(data, draw):
    position = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    value = draw.draw(st.integers(min_value=0, max_value=255))
    assert_clean_or_refused(data[:position] + bytes([value]) + data[position + 1 :])


@PROPERTY
@given(st.binary(max_size=4096))
@example(b"")
@example(b"GIF89a")
@example(b"\x89PNG\r\n\x1a\n")
@example(b"\xff\xd8\xff\xe0")
@example(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
@example(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
@example(b"PK\x03\x04")
def test_any_bytes_are_refused_or_a_clean_jpeg(data):
    assert_clean_or_refused(data)


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PPM", "TGA", "PCX"])
def test_a_real_picture_in_a_format_we_do_not_take_is_refused(fmt):
    with pytest.raises(DomainError) as caught:
        image_clean(encoded(fmt, 16, 16))
    assert caught.value.code == "image_invalid"
    assert str(caught.value.message) == (
        "这不是可识别的照片（支持 JPEG、PNG、WebP、GIF、BMP），或文件已损坏，请重新拍摄或选择。"
    )


@PROPERTY
@given(st.integers(min_value=8_000, max_value=2**31 - 1), st.integers(min_value=8_000, max_value=2**31 - 1))
def test_a_decompression_bomb_is_refused_from_its_header(width, height):
    with pytest.raises(DomainError) as caught:
        image_clean(png_claiming(width, height))
    assert caught.value.code in {"image_too_many_pixels", "image_invalid"}
    if width * height > MAX_PIXELS and caught.value.code == "image_too_many_pixels":
        assert str(caught.value.message) == "照片像素过多（超过 50 百万像素），请降低拍摄分辨率后重试。"


def test_a_bomb_just_over_the_limit_names_the_pixel_limit():
    with pytest.raises(DomainError) as caught:
        image_clean(png_claiming(10_000, 5_001))
    assert caught.value.code == "image_too_many_pixels"
    assert str(caught.value.message) == "照片像素过多（超过 50 百万像素），请降低拍摄分辨率后重试。"


@PROPERTY
@given(st.integers(min_value=1, max_value=4000))
def test_an_upload_over_the_byte_limit_is_refused_before_decoding(extra):
    data = encoded("PNG", 8, 8)
    limit = len(data) - 1
    with pytest.raises(DomainError) as caught:
        image_clean(data + b"\x00" * extra, max_bytes=limit)
    assert caught.value.code == "image_too_large"
    assert str(caught.value.message) == "照片太大：每张不能超过 0 MB。"


@PROPERTY
@given(
    st.sampled_from(
        [
            ("1", "PNG"),
            ("L", "PNG"),
            ("P", "PNG"),
            ("RGBA", "PNG"),
            ("LA", "PNG"),
            ("I;16", "PNG"),
            ("CMYK", "JPEG"),
            ("RGBA", "WEBP"),
            ("P", "GIF"),
        ]
    ),
    st.integers(min_value=1, max_value=3000),
    st.integers(min_value=1, max_value=40),
)
def test_odd_modes_and_long_thin_pictures_become_small_jpegs(mode_format, long_side, short_side):
    mode, fmt = mode_format
    image = Image.new(mode, (long_side, short_side))
    out = io.BytesIO()
    image.save(out, format=fmt)
    clean = image_clean(out.getvalue(), max_side=1600)
    assert max(clean.width, clean.height) <= 1600
    assert clean.content[:3] == b"\xff\xd8\xff"
