"""Reads for list exports: a requester's jobs and their progress, the gates, and for each kind of export
the sheet it makes — the list page's own selector, run as the requester, with the columns of the file.

Scope is decided when the job runs: the task calls `export_sheet` with the requester, so a role granted
or withdrawn between the click and the run counts. The gate (`export_gate`) is checked when the job is
created, again when it runs and again at every download.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import django_filters
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from governance import access, pii
from governance.models import (
    AuditEvent,
    ExportJob,
    ExportKind,
    ExportStatus,
    Household,
    HouseholdTagKind,
    MemberCategory,
    MembershipStage,
    PartyMember,
    Region,
    Resident,
    ResidentTagKind,
)
from governance.selectors import audit as audit_selectors
from governance.selectors import party as party_selectors
from governance.selectors import people as people_selectors

AnyUser = AbstractBaseUser | AnonymousUser

# Files are deleted this many days after they are made (governance.export_files_expire, hourly).
EXPORT_KEEP_DAYS = 7
# The only kinds with residents' ID numbers, phones and addresses, masked unless asked for in full.
PERSONAL_DATA_KINDS = frozenset({ExportKind.HOUSEHOLDS, ExportKind.RESIDENTS})
AUDIT_SORTS = ("-at", "at")
_CHUNK = 2_000


# --- jobs -----------------------------------------------------------------------------------------------


def export_job_list(*, actor: AnyUser) -> QuerySet[ExportJob]:
    """The actor's own export jobs, newest first. Nobody sees another user's exports, whatever their
    role: a file of personal data belongs to the person who asked for it."""
    if not actor.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by_id=actor.pk).order_by("-created_at", "-id")


def export_job_get(*, actor: AnyUser, job_id: int) -> ExportJob:
    """One of the actor's jobs; NotFound (404) for anyone else's, so their existence does not leak."""
    job = export_job_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("未找到该导出任务。"))
    return job


def export_job_percent(job: ExportJob) -> int:
    """How far the job is, 0–100. A running job stays below 100 until its file is stored."""
    if job.is_finished:
        return 100
    if job.status == ExportStatus.RUNNING and job.rows_total:
        return min(99, job.rows_done * 100 // job.rows_total)
    return 0


def export_job_expires_at(job: ExportJob) -> dt.datetime | None:
    """When a finished file will be deleted (None unless the job is done)."""
    if job.status != ExportStatus.DONE or job.finished_at is None:
        return None
    return job.finished_at + dt.timedelta(days=EXPORT_KEEP_DAYS)


def export_job_file_open(job: ExportJob) -> IO[bytes]:
    """The job's finished file, open for reading (the caller closes it, or a FileResponse does);
    NotFound when there is none: not made yet, failed, or deleted after EXPORT_KEEP_DAYS."""
    if job.status != ExportStatus.DONE or not job.file:
        raise NotFound(_("该导出文件尚未生成，或已过期删除。"))
    try:
        return job.file.storage.open(job.file.name, "rb")
    except FileNotFoundError:
        raise NotFound(_("该导出文件尚未生成，或已过期删除。")) from None


def export_file_name(kind: str, at: dt.datetime) -> str:
    """“户名单-20250301-1430.xlsx”: what the list is and when it was asked for (local time)."""
    return f"{ExportKind(kind).label}-{timezone.localtime(at):%Y%m%d-%H%M}.xlsx"


# --- the gate -------------------------------------------------------------------------------------------


def export_gate(*, user: AnyUser, kind: str, full: bool) -> None:
    """Return if `user` may export `kind` (with personal data in clear when `full`); DomainError otherwise.

    Anyone signed in may export a list masked: the list's own scope decides what is in it, as on the
    page. The audit log needs a role that reads it; personal data in clear needs a role that sees it
    (people_selectors.personal_data_paths), and only the household and resident lists carry it.
    """
    if not user.is_authenticated or not user.is_active:
        raise DomainError("export_forbidden", _("请先登录。"), status=403)
    if kind == ExportKind.AUDIT_LOG and not audit_selectors.audit_can_view(actor=user):
        raise DomainError(
            "export_forbidden", _("只有县委组织部管理员和乡镇管理员可以导出审计日志。"), status=403
        )
    if not full:
        return
    if kind not in PERSONAL_DATA_KINDS:
        raise DomainError(
            "export_full_unsupported",
            _("只有户名单和居民名单可以选择导出完整个人信息。"),
            field="full_personal_data",
        )
    if not people_selectors.personal_data_paths(user=user):
        raise DomainError(
            "personal_data_forbidden",
            _("您的角色不能导出完整的个人信息。"),
            status=403,
            field="full_personal_data",
        )


# --- filters --------------------------------------------------------------------------------------------

_PARTY_FILTER_LABELS = {
    "q": gettext_lazy("姓名"),
    "stage": gettext_lazy("发展阶段"),
    "category": gettext_lazy("党员类别"),
    "org": gettext_lazy("党组织"),
    "year": gettext_lazy("入党年份"),
    "sort": gettext_lazy("排序"),
}
# The region filters' own labels say “编号” (they take ids); what a person reads is the region's name.
_REGION_LABELS = {
    "grid": gettext_lazy("网格"),
    "village": gettext_lazy("村（社区）"),
    "township": gettext_lazy("乡镇"),
    "region": gettext_lazy("区域"),
}
_FILTERSETS: dict[str, type[django_filters.FilterSet]] = {
    ExportKind.HOUSEHOLDS: people_selectors.HouseholdFilter,
    ExportKind.RESIDENTS: people_selectors.ResidentFilter,
    ExportKind.AUDIT_LOG: audit_selectors.AuditEventFilter,
}
_EMPTY: dict[str, Callable[[], QuerySet[Any]]] = {
    ExportKind.HOUSEHOLDS: Household.objects.none,
    ExportKind.RESIDENTS: Resident.objects.none,
    ExportKind.AUDIT_LOG: AuditEvent.objects.none,
}


def _invalid(label: str, message: str) -> DomainError:
    return DomainError(
        "export_filters_invalid",
        _("筛选条件有误：%(label)s，%(message)s。") % {"label": label, "message": message.rstrip("。.")},
        field="filters",
    )


def _filterset_clean(kind: str, given: dict[str, str]) -> dict[str, str]:
    filterset_class = _FILTERSETS[kind]
    names = set(filterset_class.base_filters)
    kept = {name: value for name, value in given.items() if name in names}
    if kind == ExportKind.AUDIT_LOG and given.get("sort"):
        if given["sort"] not in AUDIT_SORTS:
            raise _invalid(str(_("排序")), str(_("请选择有效的选项。")))
        kept["sort"] = given["sort"]
    filterset = filterset_class(kept, queryset=_EMPTY[kind]())
    form = filterset.form
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        label = form.fields[name].label if name in form.fields else name
        raise _invalid(str(label), str(errors[0]))
    return kept


def _party_clean(user: AnyUser, given: dict[str, str]) -> dict[str, str]:
    kept = {name: value for name, value in given.items() if name in _PARTY_FILTER_LABELS}
    checks: dict[str, Callable[[str], bool]] = {
        "q": lambda v: len(v) <= 50,
        "stage": lambda v: v in MembershipStage.values,
        "category": lambda v: v in MemberCategory.values,
        "org": str.isdigit,
        "year": lambda v: v.isdigit() and len(v) == 4,
        "sort": lambda v: v in party_selectors.MEMBER_SORTS,
    }
    for name, value in kept.items():
        if not checks[name](value):
            raise _invalid(str(_PARTY_FILTER_LABELS[name]), str(_("请选择有效的选项。")))
    if "org" in kept:
        try:
            party_selectors.party_org_get(user=user, org_id=int(kept["org"]))
        except NotFound:
            raise _invalid(str(_PARTY_FILTER_LABELS["org"]), str(_("未找到该党组织。"))) from None
    return kept


def export_filters_clean(*, kind: str, user: AnyUser, filters: Mapping[str, Any]) -> dict[str, str]:
    """The filters of `kind` that are set, as stripped strings, with names the list does not know
    dropped (page, export, full…); DomainError (field "filters") naming the first invalid one.

    A list page ignores an invalid filter value and shows everything; an export refuses it instead, so
    that a typo never sends out more than was meant."""
    given = {str(k): str(v).strip() for k, v in filters.items() if v is not None and str(v).strip()}
    if kind == ExportKind.PARTY_MEMBERS:
        return _party_clean(user, given)
    return _filterset_clean(kind, given)


def _region_name(user: AnyUser, value: str) -> str:
    if not value.isdigit():
        return value
    name = access.scoped(Region.objects.filter(pk=int(value)), user).values_list("name", flat=True).first()
    return name or value


def _choice_label(choices: Any, value: str) -> str:
    return str(dict((str(k), v) for k, v in choices).get(value, value))


def export_filters_describe(*, kind: str, user: AnyUser, filters: Mapping[str, str]) -> list[tuple[str, str]]:
    """The filters as the requester reads them: [(“网格”, “第一网格”), (“标签”, “低保户”)], in the list's
    order, the sort left out (it filters nothing)."""
    described: list[tuple[str, str]] = []
    if kind == ExportKind.PARTY_MEMBERS:
        for name, party_label in _PARTY_FILTER_LABELS.items():
            value = filters.get(name, "")
            if not value or name == "sort":
                continue
            if name == "stage":
                value = _choice_label(MembershipStage.choices, value)
            elif name == "category":
                value = _choice_label(MemberCategory.choices, value)
            elif name == "org":
                with contextlib.suppress(NotFound, ValueError):
                    value = party_selectors.party_org_get(user=user, org_id=int(value)).name
            described.append((str(party_label), value))
        return described
    base_filters = _FILTERSETS[kind].base_filters
    for name, definition in base_filters.items():
        value = filters.get(name, "")
        if not value or name == "sort":
            continue
        label: str = str(definition.label)
        if name in _REGION_LABELS:
            label = str(_REGION_LABELS[name])
            value = _region_name(user, value)
        elif name == "object_type":
            value = audit_selectors.object_type_label(value)
        elif isinstance(definition, django_filters.BooleanFilter):
            value = str(_("是")) if value.lower() in ("true", "1", "2", "yes") else str(_("否"))
        elif isinstance(definition, django_filters.ChoiceFilter):
            value = _choice_label(definition.extra.get("choices", []), value)
        described.append((label, value))
    return described


def export_filters_summary(described: list[tuple[str, str]]) -> str:
    """“网格：第一网格；标签：低保户” (what the job lists show), at most 300 characters."""
    text = _("；").join(
        _("%(label)s：%(value)s") % {"label": label, "value": value} for label, value in described
    )
    return text if len(text) <= 300 else text[:299] + "…"


# --- the sheets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSheet:
    """One kind of export as one requester gets it: the rows (`queryset`, each made into a list of cell
    values by `row`), the sheet's title, headers and column widths, and the region path the export's
    audit entry is filed under."""

    title: str
    headers: list[str]
    widths: list[int]
    queryset: QuerySet[Any]
    row: Callable[[Any], list[Any]]
    region_path: str

    def rows(self) -> Iterator[list[Any]]:
        """Every row, fetched in chunks (prefetches included) so memory stays flat however many."""
        for obj in self.queryset.iterator(chunk_size=_CHUNK):
            yield self.row(obj)


def _outermost_path(user: AnyUser) -> str:
    """The user's one outermost region, if one ("" when several or none)."""
    paths = access.outermost([path for _role, path in access.assignments(user)])
    return paths[0] if len(paths) == 1 else ""


def _people_region_path(user: AnyUser, filters: Mapping[str, str]) -> str:
    """The narrowest region the export names (and the user covers), else the user's own region."""
    for key in ("grid", "region", "village", "township"):
        value = filters.get(key, "")
        if value.isdigit():
            path = Region.objects.filter(pk=int(value)).values_list("path", flat=True).first()
            if path and access.covers(user, path):
                return path
    return _outermost_path(user)


def _household_sheet(user: AnyUser, filters: Mapping[str, str], full: bool) -> ExportSheet:
    paths = people_selectors.personal_data_paths(user=user) if full else []
    queryset = people_selectors.household_list(user=user, filters=filters).select_related(
        "grid__parent__parent"
    )

    def row(household: Any) -> list[Any]:
        head = household.head
        clear = full and people_selectors.path_covered(household.grid.path, paths)
        village = household.grid.parent
        township = village.parent if village else None
        return [
            household.number,
            township.name if township else "",
            village.name if village else "",
            household.grid.name,
            head.name if head else "",
            (pii.decrypt(head.id_number_encrypted) if clear else head.id_number_masked) if head else "",
            (pii.decrypt(head.phone_encrypted) if clear else head.phone_masked) if head else "",
            household.address if clear else people_selectors.address_mask(household.address),
            household.members_count,
            "、".join(str(HouseholdTagKind(t.tag).label) for t in household.tags.all()),
            _("在册") if household.is_active else _("已注销"),
        ]

    return ExportSheet(
        title=_("户"),
        headers=[
            _("户号"),
            _("乡镇"),
            _("村（社区）"),
            _("网格"),
            _("户主"),
            _("户主身份证号"),
            _("户主手机号"),
            _("住址"),
            _("人口"),
            _("标签"),
            _("状态"),
        ],
        widths=[14, 10, 12, 12, 10, 22, 14, 32, 8, 20, 8],
        queryset=queryset,
        row=row,
        region_path=_people_region_path(user, filters),
    )


def _resident_sheet(user: AnyUser, filters: Mapping[str, str], full: bool) -> ExportSheet:
    paths = people_selectors.personal_data_paths(user=user) if full else []
    queryset = people_selectors.resident_list(user=user, filters=filters).select_related(
        "household__grid__parent__parent"
    )
    today = timezone.localdate()

    def row(resident: Any) -> list[Any]:
        household = resident.household
        clear = full and people_selectors.path_covered(household.grid.path, paths)
        village = household.grid.parent
        township = village.parent if village else None
        return [
            resident.name,
            resident.get_gender_display(),
            resident.birth_date,
            people_selectors.age_on(resident.birth_date, today),
            pii.decrypt(resident.id_number_encrypted) if clear else resident.id_number_masked,
            pii.decrypt(resident.phone_encrypted) if clear else resident.phone_masked,
            resident.get_relation_to_head_display(),
            resident.get_status_display(),
            "、".join(str(ResidentTagKind(t.tag).label) for t in resident.tags.all()),
            household.number,
            township.name if township else "",
            village.name if village else "",
            household.grid.name,
        ]

    return ExportSheet(
        title=_("居民"),
        headers=[
            _("姓名"),
            _("性别"),
            _("出生日期"),
            _("年龄"),
            _("身份证号"),
            _("手机号"),
            _("与户主关系"),
            _("状态"),
            _("标签"),
            _("户号"),
            _("乡镇"),
            _("村（社区）"),
            _("网格"),
        ],
        widths=[10, 6, 12, 6, 22, 14, 12, 10, 24, 14, 10, 12, 12],
        queryset=queryset,
        row=row,
        region_path=_people_region_path(user, filters),
    )


def _party_sheet(user: AnyUser, filters: Mapping[str, str]) -> ExportSheet:
    def number(name: str) -> int | None:
        value = filters.get(name, "")
        return int(value) if value.isdigit() else None

    queryset = party_selectors.party_member_list(
        user=user,
        stage=filters.get("stage") or None,
        category=filters.get("category") or None,
        organisation_id=number("org"),
        year_joined=number("year"),
        search=filters.get("q", ""),
        sort=filters.get("sort") or party_selectors.DEFAULT_MEMBER_SORT,
    )

    def row(member: PartyMember) -> list[Any]:
        return [
            member.resident.name,
            member.resident.get_gender_display(),
            member.organisation.name,
            member.get_category_display(),
            member.get_stage_display(),
            member.applied_on,  # type: ignore[attr-defined]
            member.joined_on,  # type: ignore[attr-defined]
        ]

    return ExportSheet(
        title=_("党员名册"),
        headers=[
            _("姓名"),
            _("性别"),
            _("所在党组织"),
            _("党员类别"),
            _("发展阶段"),
            _("申请日期"),
            _("入党日期"),
        ],
        widths=[12, 6, 28, 14, 14, 12, 12],
        queryset=queryset,
        row=row,
        region_path=_outermost_path(user),
    )


def _audit_sheet(user: AnyUser, filters: Mapping[str, str]) -> ExportSheet:
    events = audit_selectors.audit_event_list(actor=user)
    filterset = audit_selectors.AuditEventFilter(
        {k: v for k, v in filters.items() if k != "sort"} or None, queryset=events
    )
    if filterset.is_bound:
        events = filterset.qs if filterset.is_valid() else events.none()
    sort = filters.get("sort", "-at")
    if sort not in AUDIT_SORTS:
        sort = "-at"
    events = events.order_by(sort, "-id" if sort == "-at" else "id")

    def row(event: AuditEvent) -> list[Any]:
        return [
            event.at,
            event.actor_name,
            event.get_action_display(),
            audit_selectors.object_type_label(event.object_type),
            event.object_id,
            event.object_repr,
            event.detail,
            json.dumps(event.changes, ensure_ascii=False) if event.changes else "",
            event.ip_address or "",
        ]

    return ExportSheet(
        title=_("审计日志"),
        headers=[
            _("时间"),
            _("操作人"),
            _("操作"),
            _("对象类型"),
            _("对象编号"),
            _("对象"),
            _("说明"),
            _("变更内容"),
            _("IP 地址"),
        ],
        widths=[18, 12, 12, 14, 10, 24, 48, 60, 16],
        queryset=events,
        row=row,
        region_path=audit_selectors.audit_scope_path(actor=user),
    )


def export_sheet(*, kind: str, user: AnyUser, filters: Mapping[str, str], full: bool) -> ExportSheet:
    """The sheet of `kind` as `user` gets it now: the same selector as the list page, in the user's
    scope, with `filters` (already cleaned by export_filters_clean). Personal data is in clear only when
    `full`, and then only where the user sees it (the caller has checked export_gate)."""
    if kind == ExportKind.HOUSEHOLDS:
        return _household_sheet(user, filters, full)
    if kind == ExportKind.RESIDENTS:
        return _resident_sheet(user, filters, full)
    if kind == ExportKind.PARTY_MEMBERS:
        return _party_sheet(user, filters)
    if kind == ExportKind.AUDIT_LOG:
        return _audit_sheet(user, filters)
    raise DomainError("export_kind_unknown", _("未知的导出类型：%s") % kind, field="kind")
