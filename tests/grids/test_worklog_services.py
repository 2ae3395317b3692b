"""grids.services.worklog.work_log_record: who may write a grid's log, what each kind needs, linked cases,
photos (cleaned before anything is written), dates, and idempotent replays."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent
from grids.models import WorkKind, WorkLogEntry, WorkLogPhoto
from grids.services.worklog import work_log_record
from tests.grids.factories import GridsWorld, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county, settings, tmp_path) -> GridsWorld:
    settings.MEDIA_ROOT = tmp_path / "media"
    return grids_world_make(demo_county)


def png_upload(name: str = "photo.png", size: tuple[int, int] = (2400, 1200)) -> SimpleUploadedFile:
    image = Image.new("RGBA", size, (200, 30, 30, 255))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x9003] = "2026:03:08 10:00:00"
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def record(world: GridsWorld, actor: str = "grid_leader", **overrides):
    data: dict[str, Any] = {
        "actor": world.users[actor],
        "idempotency_key": uuid.uuid4().hex,
        "grid": world.regions["第一网格"],
        "kind": WorkKind.VISIT,
        "occurred_on": dt.date(2026, 3, 8),
        "topic": "走访独居老人",
        "summary": "了解冬季取暖情况，老人身体良好。",
        "attendees_count": None,
        "household": world.people.households["王家"],
    }
    data.update(overrides)
    return work_log_record(**data)


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------------------------------------------------
# Recording, and the audit row


def test_grid_leader_records_a_household_visit(world):
    entry = record(world)
    entry.refresh_from_db()
    assert (entry.grid_id, entry.author_id, entry.kind) == (
        world.regions["第一网格"].pk,
        world.users["grid_leader"].pk,
        WorkKind.VISIT,
    )
    assert entry.occurred_on == dt.date(2026, 3, 8)
    assert (entry.topic, entry.summary) == ("走访独居老人", "了解冬季取暖情况，老人身体良好。")
    assert entry.household_id == world.people.households["王家"].pk
    assert entry.attendees_count is None
    assert list(entry.cases.all()) == []
    audit = AuditEvent.objects.get(object_type="grids.worklogentry", object_id=str(entry.pk))
    assert audit.action == AuditAction.CREATE
    assert audit.actor_id == world.users["grid_leader"].pk
    assert audit.region_path == world.regions["第一网格"].path
    assert audit.changes["kind"] == [None, "visit"]
    assert audit.changes["household"] == [None, world.people.households["王家"].pk]
    assert audit.detail == "第一网格记录入户走访：走访独居老人"


def test_outreach_session_with_attendees_and_no_household(world):
    entry = record(
        world, kind=WorkKind.OUTREACH, topic="医保缴费政策宣讲", attendees_count=36, household=None
    )
    assert (entry.kind, entry.attendees_count, entry.household_id) == (WorkKind.OUTREACH, 36, None)


@pytest.mark.parametrize(
    ("actor", "grid"),
    [
        ("village_secretary", "第二网格"),
        ("township_admin", "东街第一网格"),
        ("county_admin", "民营第一网格"),
        ("minying_leader", "民营第一网格"),
    ],
)
def test_village_staff_and_above_and_the_grids_own_leader_may_write(world, actor, grid):
    entry = record(world, actor=actor, grid=world.regions[grid], kind=WorkKind.MEDIATION, household=None)
    assert entry.grid_id == world.regions[grid].pk
    assert WorkLogEntry.objects.count() == 1


def test_today_is_allowed_and_tomorrow_is_refused(world):
    today = timezone.localdate()
    assert record(world, occurred_on=today).occurred_on == today
    with pytest.raises(DomainError) as caught:
        record(world, occurred_on=today + dt.timedelta(days=1))
    assert (caught.value.code, caught.value.field) == ("occurred_on_future", "occurred_on")
    assert str(caught.value.message).startswith("日期不能晚于今天（")
    assert WorkLogEntry.objects.count() == 1


# ---------------------------------------------------------------------------------------------------------
# Who may not


@pytest.mark.parametrize(
    "actor", ["grid_leader_2", "minying_leader", "shihua_admin", "dongjie_secretary", "nobody"]
)
def test_out_of_scope_answers_not_found_and_writes_nothing(world, actor):
    with pytest.raises(NotFound) as caught:
        record(world, actor=actor)
    assert caught.value.status == 404
    assert str(caught.value.message) == "未找到该网格，或者它不在您的管辖范围内。"
    assert WorkLogEntry.objects.count() == 0
    assert not AuditEvent.objects.filter(object_type="grids.worklogentry").exists()


@pytest.mark.parametrize("actor", ["viewer", "mediator"])
def test_roles_that_only_read_the_grid_are_forbidden(world, actor):
    with pytest.raises(DomainError) as caught:
        record(world, actor=actor)
    assert (caught.value.code, caught.value.status) == ("work_log_forbidden", 403)
    assert WorkLogEntry.objects.count() == 0


def test_a_canteen_manager_of_the_community_is_forbidden(world):
    with pytest.raises(DomainError) as caught:
        record(world, actor="canteen_manager", grid=world.regions["民营第一网格"], household=None)
    assert caught.value.status == 403


def test_the_log_belongs_to_a_grid_not_a_village(world):
    with pytest.raises(DomainError) as caught:
        record(world, actor="village_secretary", grid=world.regions["新华村"], household=None)
    assert (caught.value.code, caught.value.field) == ("work_log_not_a_grid", "grid")
    assert str(caught.value.message) == "工作记录只能记在网格下：“新华村”不是网格。"


# ---------------------------------------------------------------------------------------------------------
# What each kind needs


def test_a_visit_names_a_household(world):
    with pytest.raises(DomainError) as caught:
        record(world, household=None)
    assert (caught.value.code, caught.value.field) == ("household_required", "household")
    assert str(caught.value.message) == "入户走访请选择走访的户。"


def test_the_household_must_be_of_that_grid(world):
    with pytest.raises(DomainError) as caught:
        record(world, household=world.people.households["张家"])  # 第二网格
    assert (caught.value.code, caught.value.field) == ("household_not_in_grid", "household")
    assert str(caught.value.message) == "走访户须是本网格（第一网格）的户。"


def test_a_household_id_that_does_not_exist_gets_the_same_answer(world):
    with pytest.raises(DomainError) as caught:
        record(world, household=2_147_000_000)
    assert caught.value.code == "household_not_in_grid"
    assert record(world, household=world.people.households["李家"].pk).household_id == (
        world.people.households["李家"].pk
    )


def test_an_inactive_household_cannot_be_visited(world):
    with pytest.raises(DomainError) as caught:
        record(world, household=world.people.households["旧户"])
    assert caught.value.code == "household_inactive"


@pytest.mark.parametrize("kind", [WorkKind.OUTREACH, WorkKind.MEETING])
def test_outreach_and_meetings_say_how_many_took_part(world, kind):
    with pytest.raises(DomainError) as caught:
        record(world, kind=kind, household=None, attendees_count=None)
    assert (caught.value.code, caught.value.field) == ("attendees_count_required", "attendees_count")
    assert str(caught.value.message) == f"{kind.label}请填写参加人数。"


@pytest.mark.parametrize("count", [0, -3, 10_001])
def test_attendees_out_of_range(world, count):
    with pytest.raises(DomainError) as caught:
        record(world, kind=WorkKind.OUTREACH, household=None, attendees_count=count)
    assert caught.value.code == "attendees_count_range"
    assert str(caught.value.message) == "参加人数应在1到10000之间。"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"topic": "   "}, "topic_required", "topic"),
        ({"topic": "宣" * 101}, "topic_too_long", "topic"),
        ({"summary": "记" * 4001}, "summary_too_long", "summary"),
        ({"kind": "party"}, "kind_invalid", "kind"),
        ({"occurred_on": None}, "occurred_on_required", "occurred_on"),
        ({"idempotency_key": ""}, "idempotency_key_missing", None),
        ({"idempotency_key": "k" * 65}, "idempotency_key_too_long", None),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message(world, overrides, code, field):
    with pytest.raises(DomainError) as caught:
        record(world, **overrides)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value.message))
    assert WorkLogEntry.objects.count() == 0


# ---------------------------------------------------------------------------------------------------------
# Meeting minutes link cases of the village the actor can see


def test_a_meeting_links_cases_of_the_village(world):
    own = case_make(world)  # 第一网格
    other_grid = case_make(world, reporter="grid_leader_2", grid="第二网格")
    entry = record(
        world,
        actor="village_secretary",
        kind=WorkKind.MEETING,
        topic="党支部委员会：讨论村道修复",
        attendees_count=7,
        household=None,
        cases=[own, other_grid.pk],
    )
    assert sorted(entry.cases.values_list("pk", flat=True)) == sorted([own.pk, other_grid.pk])
    audit = AuditEvent.objects.get(object_type="grids.worklogentry", object_id=str(entry.pk))
    assert audit.changes["cases"] == [None, sorted([own.number, other_grid.number])]


def test_a_grid_leader_links_only_the_cases_they_can_see(world):
    case_make(world)
    hidden = case_make(world, reporter="grid_leader_2", grid="第二网格")
    with pytest.raises(DomainError) as caught:
        record(world, kind=WorkKind.MEETING, attendees_count=5, household=None, cases=[hidden])
    assert (caught.value.code, caught.value.field) == ("cases_not_in_village", "cases")
    assert str(caught.value.message) == "只能关联本村（社区）中您有权查看的诉求，请重新选择。"
    assert WorkLogEntry.objects.count() == 0


def test_cases_of_another_village_or_missing_are_refused_alike(world):
    elsewhere = case_make(world, reporter="minying_leader", grid="民营第一网格")
    for cases in ([elsewhere.pk], [2_147_000_000]):
        with pytest.raises(DomainError) as caught:
            record(
                world,
                actor="county_admin",
                kind=WorkKind.MEETING,
                attendees_count=5,
                household=None,
                cases=cases,
            )
        assert caught.value.code == "cases_not_in_village"
    assert WorkLogEntry.objects.count() == 0


# ---------------------------------------------------------------------------------------------------------
# Photos


def test_photos_are_cleaned_reencoded_and_stored(world, settings):
    entry = record(world, photos=[png_upload(), png_upload("second.png", (300, 500))])
    photos = list(WorkLogPhoto.objects.filter(entry=entry).order_by("pk"))
    assert [(p.width, p.height) for p in photos] == [(1600, 800), (300, 500)]
    for photo in photos:
        content = Path(settings.MEDIA_ROOT, photo.image.name).read_bytes()
        assert content[:3] == b"\xff\xd8\xff"  # a JPEG, whatever was uploaded
        assert photo.size_bytes == len(content)
        assert photo.image.name.startswith("worklog/")
        assert photo.image.name.endswith(".jpg")
        assert "photo" not in photo.image.name
        assert "second" not in photo.image.name
        with Image.open(io.BytesIO(content)) as image:
            assert dict(image.getexif()) == {}
    audit = AuditEvent.objects.get(object_type="grids.worklogentry", object_id=str(entry.pk))
    assert audit.changes["photos"] == [None, 2]


def test_a_bad_photo_stops_everything_before_any_write(world, settings):
    not_an_image = SimpleUploadedFile("notes.jpg", b"this is a text file", content_type="image/jpeg")
    with pytest.raises(DomainError) as caught:
        record(world, photos=[png_upload(), not_an_image])
    assert (caught.value.code, caught.value.field) == ("image_invalid", "photos")
    assert str(caught.value.message).startswith("第2张照片：这不是可识别的照片")
    assert WorkLogEntry.objects.count() == 0
    assert WorkLogPhoto.objects.count() == 0
    assert media_files(settings) == []


def test_at_most_nine_photos(world, settings):
    with pytest.raises(DomainError) as caught:
        record(world, photos=[png_upload(size=(10, 10)) for _ in range(10)])
    assert caught.value.code == "photos_too_many"
    assert str(caught.value.message) == "照片最多9张。"
    assert media_files(settings) == []


# ---------------------------------------------------------------------------------------------------------
# Replays


def test_a_replay_returns_the_first_entry_and_writes_nothing(world, settings):
    key = uuid.uuid4().hex
    first = record(world, idempotency_key=key, photos=[png_upload(size=(40, 40))])
    again = record(world, idempotency_key=key, photos=[png_upload(size=(40, 40))])
    assert again.pk == first.pk
    assert WorkLogEntry.objects.count() == 1
    assert WorkLogPhoto.objects.count() == 1
    assert len(media_files(settings)) == 1
    assert AuditEvent.objects.filter(object_type="grids.worklogentry").count() == 1


def test_the_same_key_for_another_entry_is_a_conflict(world):
    key = uuid.uuid4().hex
    record(world, idempotency_key=key)
    with pytest.raises(Conflict) as caught:
        record(world, idempotency_key=key, topic="另一件事")
    assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 409)
    assert WorkLogEntry.objects.count() == 1


def test_keys_belong_to_their_author(world):
    key = uuid.uuid4().hex
    mine = record(world, idempotency_key=key)
    theirs = record(world, actor="village_secretary", idempotency_key=key)
    assert mine.pk != theirs.pk
    assert WorkLogEntry.objects.count() == 2
