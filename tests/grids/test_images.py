"""common/images.py: photos are checked by content, re-encoded as metadata-free JPEG, turned the right way
up and limited in size; every bad input is a DomainError on the "photos" field, nothing else."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from common.errors import DomainError
from common.images import MAX_SIDE, CleanImage, image_clean


def jpeg_bytes(
    width: int = 120, height: int = 80, *, orientation: int | None = None, colour=(200, 30, 30), **extra
) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    # A marker: the left quarter is blue, so a rotation can be seen in the output.
    image.paste((0, 0, 255), (0, 0, width // 4, height))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes(), comment=b"secret comment", **extra)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    colour = (10, 200, 10, 0) if mode == "RGBA" else (10, 200, 10)
    image = Image.new(mode, (width, height), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def opened(clean: CleanImage) -> Image.Image:
    image = Image.open(io.BytesIO(clean.content))
    image.load()
    return image


def assert_refused(data, code: str, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        image_clean(data, **kwargs)
    assert caught.value.code == code
    assert caught.value.field == "photos"
    assert caught.value.status == 400
    return caught.value


def test_jpeg_is_reencoded_without_metadata():
    clean = image_clean(SimpleUploadedFile("IMG_0001.jpg", jpeg_bytes(), content_type="image/jpeg"))
    image = opened(clean)
    assert image.format == "JPEG"
    assert (clean.width, clean.height) == (120, 80) == image.size
    assert image.mode == "RGB"
    assert not image.getexif()
    assert "exif" not in image.info
    assert "comment" not in image.info
    assert "icc_profile" not in image.info
    assert b"PhoneMaker" not in clean.content
    assert b"secret comment" not in clean.content
    import hashlib

    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()
    assert clean.size_bytes == len(clean.content)


def test_orientation_is_applied_before_the_exif_is_dropped():
    # Orientation 6: the camera stored the picture rotated; viewers turn it 90° clockwise.
    clean = image_clean(jpeg_bytes(120, 80, orientation=6))
    image = opened(clean)
    assert image.size == (80, 120)
    assert not image.getexif()
    # The blue left quarter is now the top quarter.
    top = image.getpixel((40, 5))
    bottom = image.getpixel((40, 115))
    assert top[2] > 200
    assert top[0] < 60
    assert bottom[0] > 150
    assert bottom[2] < 80


def test_long_side_is_limited_and_aspect_kept():
    clean = image_clean(jpeg_bytes(4000, 3000))
    assert (clean.width, clean.height) == (MAX_SIDE, 1200)
    assert opened(clean).size == (1600, 1200)
    small = image_clean(jpeg_bytes(3000, 4000), max_side=800)
    assert (small.width, small.height) == (600, 800)


def test_png_with_transparency_becomes_a_white_backed_jpeg():
    clean = image_clean(png_bytes())
    image = opened(clean)
    assert image.format == "JPEG"
    assert image.size == (64, 48)
    red, green, blue = image.getpixel((10, 10))
    assert min(red, green, blue) > 240


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP"])
def test_other_accepted_formats_are_converted(fmt):
    image = Image.new("RGB", (30, 20), (0, 128, 0))
    out = io.BytesIO()
    image.save(out, format=fmt)
    clean = image_clean(out.getvalue())
    assert opened(clean).format == "JPEG"
    assert (clean.width, clean.height) == (30, 20)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    image = Image.new("I;16", (20, 20), 32768)
    out = io.BytesIO()
    image.save(out, format="PNG")
    clean = image_clean(out.getvalue())
    red, green, blue = opened(clean).getpixel((5, 5))
    assert 120 <= red <= 136
    assert red == green == blue


def test_a_text_file_named_jpg_is_refused():
    error = assert_refused(
        SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a picture at all", content_type="image/jpeg"),
        "image_invalid",
    )
    assert "不是可识别的照片" in str(error.message)


def test_an_unsupported_image_format_is_refused():
    image = Image.new("RGB", (10, 10))
    out = io.BytesIO()
    image.save(out, format="TIFF")
    assert_refused(out.getvalue(), "image_invalid")


def test_empty_file_is_refused():
    assert_refused(SimpleUploadedFile("a.jpg", b""), "image_empty")


def test_oversize_upload_is_refused_before_decoding():
    error = assert_refused(b"\xff\xd8" + b"\0" * 2000, "image_too_large", max_bytes=1000)
    assert "1000" not in str(error.message)  # the message speaks in MB
    assert error.extra["max_bytes"] == 1000
    # The default limit is 10 MB: an 11 MB stream is refused by size, not by content.
    big = io.BytesIO(b"\0" * (11 * 1024 * 1024))
    error = assert_refused(big, "image_too_large")
    assert "10 MB" in str(error.message)


def test_uploaded_file_size_is_checked_without_reading():
    upload = SimpleUploadedFile("big.jpg", b"x" * 2048)
    assert_refused(upload, "image_too_large", max_bytes=1024)


def test_truncated_jpeg_is_refused():
    data = jpeg_bytes(400, 300)
    assert_refused(data[: len(data) // 2], "image_invalid")


def test_truncated_png_is_refused():
    image = Image.effect_noise((300, 300), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    assert_refused(data[: len(data) // 2], "image_invalid")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming width × height pixels, with a tiny (and incomplete) compressed body."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header():
    # 20,000 × 20,000 = 400 MP: would need 400 MB to decode; refused before any pixel is decoded.
    error = assert_refused(decompression_bomb_png(20_000, 20_000), "image_too_many_pixels")
    assert "50" in str(error.message)
    # Just over a custom limit.
    assert_refused(jpeg_bytes(101, 100), "image_too_many_pixels", max_pixels=10_000)
    assert image_clean(jpeg_bytes(100, 100), max_pixels=10_000).width == 100


def test_reads_plain_file_objects_and_bytes_alike():
    data = jpeg_bytes()
    from_bytes = image_clean(data)
    from_stream = image_clean(io.BytesIO(data))
    assert from_bytes.sha256 == from_stream.sha256


# --- never anything but DomainError on hostile input ---------------------------------------------------

_SAMPLE_JPEG = jpeg_bytes(64, 48)
_SAMPLE_PNG = png_bytes(64, 48, mode="RGB")


def _clean_or_domain_error(data: bytes) -> None:
    failure: DomainError | None = None
    try:
        result = image_clean(data)
    except DomainError as error:
        failure = error
    if failure is not None:
        assert failure.field == "photos"
        assert failure.code in {"image_invalid", "image_empty", "image_too_large", "image_too_many_pixels"}
    else:
        # Whatever got through is a real, decodable JPEG.
        assert opened(result).format == "JPEG"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_domain_error(data):
    _clean_or_domain_error(data)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(_SAMPLE_JPEG)))
def test_truncated_jpeg_never_raises_anything_but_domain_error(cut):
    _clean_or_domain_error(_SAMPLE_JPEG[:cut])


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(_SAMPLE_PNG)))
def test_truncated_png_never_raises_anything_but_domain_error(cut):
    _clean_or_domain_error(_SAMPLE_PNG[:cut])


@pytest.mark.filterwarnings("ignore:.*:UserWarning")  # Pillow warns about the EXIF the flips break
@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([_SAMPLE_JPEG, _SAMPLE_PNG]),
    st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 255)), max_size=12),
)
def test_corrupted_images_never_raise_anything_but_domain_error(sample, flips):
    data = bytearray(sample)
    for position, value in flips:
        data[position % len(data)] = value
    _clean_or_domain_error(bytes(data))


# --- grids.services.photos.case_photos_attach ----------------------------------------------------------


@pytest.fixture
def filed(demo_county, tmp_path, settings):
    from tests.grids.factories import case_make, grids_world_make

    settings.MEDIA_ROOT = tmp_path / "media"
    world = grids_world_make(demo_county)
    return world, case_make(world)


def _uploads(n: int, *, width: int = 60, height: int = 40) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(width, height), content_type="image/jpeg")
        for i in range(n)
    ]


@pytest.mark.django_db
def test_attach_stores_cleaned_photos_with_an_audit_row(filed):
    from django.core.files.storage import default_storage

    from governance.models import AuditEvent
    from grids.models import CaseEvent, CasePhoto
    from grids.services.photos import case_photos_attach

    world, case = filed
    event = CaseEvent.objects.get(case=case, kind="file")
    actor = world.users["grid_leader"]
    photos = case_photos_attach(
        case=case, uploads=_uploads(2, width=2000, height=1000), stage="progress", actor=actor, event=event
    )
    assert [p.pk for p in photos] == list(CasePhoto.objects.filter(case=case).values_list("pk", flat=True))
    for photo in photos:
        assert (photo.stage, photo.event, photo.uploaded_by) == ("progress", event, actor)
        assert (photo.width, photo.height) == (1600, 800)
        assert photo.image.name.startswith("cases/")
        assert photo.image.name.endswith(".jpg")
        with default_storage.open(photo.image.name) as stored:
            content = stored.read()
        assert len(content) == photo.size_bytes
        import hashlib

        assert hashlib.sha256(content).hexdigest() == photo.sha256
        assert b"PhoneMaker" not in content
    audit = AuditEvent.objects.get(object_type="grids.casephoto")
    assert audit.changes == {"photos": [0, 2]}
    assert audit.object_id == str(case.pk)
    assert audit.region_path == world.regions["第一网格"].path


@pytest.mark.django_db
def test_attach_limits_photos_per_case_and_stage_before_writing(filed):
    from grids.models import CasePhoto
    from grids.services.photos import MAX_PHOTOS_PER_STAGE, case_photos_attach

    world, case = filed
    actor = world.users["grid_leader"]
    assert MAX_PHOTOS_PER_STAGE == 6
    case_photos_attach(case=case, uploads=_uploads(4), stage="progress", actor=actor)
    with pytest.raises(DomainError) as caught:
        case_photos_attach(case=case, uploads=_uploads(3), stage="progress", actor=actor)
    assert caught.value.code == "photos_too_many"
    assert str(caught.value.message) == "照片最多 6 张（已有 4 张）。"
    assert caught.value.field == "photos"
    assert CasePhoto.objects.filter(case=case).count() == 4
    # Another stage has its own six.
    case_photos_attach(case=case, uploads=_uploads(6), stage="result", actor=actor)
    assert CasePhoto.objects.filter(case=case, stage="result").count() == 6
    assert case_photos_attach(case=case, uploads=[], stage="result", actor=actor) == []


@pytest.mark.django_db
def test_attach_writes_nothing_when_any_photo_is_bad(filed, settings):
    from grids.models import CasePhoto
    from grids.services.photos import case_photos_attach

    world, case = filed
    uploads = [*_uploads(2), SimpleUploadedFile("notes.jpg", b"just some text", content_type="image/jpeg")]
    with pytest.raises(DomainError) as caught:
        case_photos_attach(case=case, uploads=uploads, stage="progress", actor=world.users["grid_leader"])
    assert caught.value.code == "image_invalid"
    assert str(caught.value.message).startswith("第 3 张照片（notes.jpg）：")
    assert caught.value.extra["position"] == 3
    assert CasePhoto.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not any(path.is_file() for path in media.rglob("*")) if media.exists() else True


@pytest.mark.django_db
def test_attach_refuses_a_bad_stage_and_a_foreign_event(filed):
    from grids.models import CaseEvent
    from grids.services.photos import case_photos_attach
    from tests.grids.factories import case_make

    world, case = filed
    actor = world.users["grid_leader"]
    with pytest.raises(DomainError) as stage:
        case_photos_attach(case=case, uploads=_uploads(1), stage="selfie", actor=actor)
    assert stage.value.code == "photo_stage_invalid"
    other = case_make(world, description="另一件诉求：路灯不亮")
    foreign = CaseEvent.objects.get(case=other, kind="file")
    with pytest.raises(DomainError) as mismatch:
        case_photos_attach(case=case, uploads=_uploads(1), stage="progress", actor=actor, event=foreign)
    assert mismatch.value.code == "photo_event_mismatch"


@pytest.mark.django_db
def test_files_written_are_removed_when_the_rows_roll_back(filed, settings, monkeypatch):
    from governance import audit
    from grids.models import CasePhoto
    from grids.services import photos as photo_services

    world, case = filed

    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    # The audit row is written after the files: a failure there must not leave files behind.
    monkeypatch.setattr(photo_services, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        photo_services.case_photos_attach(
            case=case, uploads=_uploads(2), stage="progress", actor=world.users["grid_leader"]
        )
    assert CasePhoto.objects.count() == 0
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*"))
    assert audit.audit_record is not broken_audit
