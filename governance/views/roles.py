"""Pages of the roles area: county and township admins manage the accounts and roles in their subtree.

Anyone without an administering role gets 404 here (deny by default). Every write goes through one
service, whose Chinese error is shown next to the field it concerns; what was typed is kept.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from common.excel import xlsx_response
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel
from governance.roles import Role
from governance.selectors import roles as role_selectors
from governance.services import roles as role_services

SORT_LABELS = {
    "name": gettext_lazy("按姓名"),
    "username": gettext_lazy("按用户名"),
    "-joined": gettext_lazy("最近开设"),
}


def _require_admin(request: HttpRequest) -> None:
    if not role_selectors.is_role_admin(actor=request.user):
        raise Http404(_("页面不存在，或者不在您的管辖范围内。"))


def _region_label(region: Region) -> str:
    indent = "　" * (region.path.count("/") - 1)
    return f"{indent}{region.name}（{region.get_kind_display()}）"


class _RegionRoleFields(forms.Form):
    """Role and region choices limited to what the acting admin may grant."""

    role = forms.ChoiceField(label=gettext_lazy("角色"))
    region = forms.TypedChoiceField(label=gettext_lazy("管辖区域"), coerce=int)

    def __init__(self, *args: Any, actor: Any, include: Region | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = {r.pk: r for r in role_selectors.grant_region_choices(actor=actor, include=include)}
        roles: set[Role] = set()
        for region in self.regions.values():
            roles |= access.grantable_roles(actor, region.path)
        role_field = self.fields["role"]
        region_field = self.fields["region"]
        assert isinstance(role_field, forms.ChoiceField)
        assert isinstance(region_field, forms.ChoiceField)
        role_field.choices = [("", _("请选择角色"))] + [(r.value, r.label) for r in Role if r in roles]
        region_field.choices = [("", _("请选择区域"))] + [
            (pk, _region_label(r)) for pk, r in self.regions.items()
        ]
        if not any(r.level == RegionLevel.GRID for r in self.regions.values()):
            region_field.help_text = _("网格不在此列：请在区域浏览中进入该网格，点“在此授予角色”。")
        role_field.error_messages["required"] = _("请选择角色。")
        role_field.error_messages["invalid_choice"] = _("请选择列表中的角色。")
        region_field.error_messages["required"] = _("请选择管辖区域。")
        region_field.error_messages["invalid_choice"] = _("请选择列表中的区域。")


class RoleGrantForm(_RegionRoleFields):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    field_order = ["username", "role", "region"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = _("请填写用户名。")
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "off"})


class UserCreateForm(_RegionRoleFields):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    password = forms.CharField(label=gettext_lazy("初始密码"), widget=forms.PasswordInput(render_value=True))
    password_again = forms.CharField(
        label=gettext_lazy("再次输入密码"), widget=forms.PasswordInput(render_value=True)
    )
    field_order = ["full_name", "username", "password", "password_again", "role", "region"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, message in (
            ("username", _("请填写用户名。")),
            ("full_name", _("请填写姓名。")),
            ("password", _("请设置初始密码。")),
            ("password_again", _("请再次输入密码。")),
        ):
            self.fields[name].error_messages["required"] = message
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "off"})
        self.fields["password"].widget.attrs.update({"autocomplete": "new-password"})
        self.fields["password_again"].widget.attrs.update({"autocomplete": "new-password"})

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned and cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return cleaned


def _place_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's Chinese message next to its field (or above the form when it names none)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


@login_required
def role_list(request: HttpRequest) -> HttpResponseBase:
    """The users in the admin's scope with their roles there; filter, sort, paginate, export."""
    _require_admin(request)
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    sort = request.GET.get("sort", "name")
    if sort not in SORT_LABELS:
        sort = "name"
    if request.GET.get("export") == "xlsx":
        return _export(request, q=q, role=role)
    users = role_selectors.user_list_with_roles(actor=request.user, q=q, role=role, sort=sort)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/roles/list.html",
        {
            "page": page,
            "q": q,
            "role": role,
            "roles": Role.choices,
            "sort": sort,
            "sorts": SORT_LABELS,
            "query": query.urlencode(),
            "actor_id": request.user.pk,
        },
    )


def _export(request: HttpRequest, *, q: str, role: str) -> HttpResponseBase:
    rows = role_selectors.role_assignment_list(actor=request.user, role=role or None)
    if q:
        rows = rows.filter(user__in=role_selectors.user_list_with_roles(actor=request.user, q=q))
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="governance.roleassignment",
        detail=_("导出角色分配列表"),
        request=request,
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    return xlsx_response(
        filename=f"{_('角色分配')}-{stamp}.xlsx",
        sheet_title=_("角色分配"),
        headers=[_("姓名"), _("用户名"), _("角色"), _("管辖区域"), _("区划代码"), _("授权人"), _("授权时间")],
        rows=(
            [
                a.user.full_name,
                a.user.username,
                a.get_role_display(),
                a.region.name,
                a.region.code,
                str(a.granted_by) if a.granted_by else "",
                a.created_at,
            ]
            for a in rows.iterator(chunk_size=2000)
        ),
        widths=[12, 18, 20, 18, 20, 12, 20],
    )


def _region_from_query(request: HttpRequest) -> Region | None:
    raw = request.GET.get("region") or request.POST.get("region")
    if not raw or not str(raw).isdigit():
        return None
    return Region.objects.filter(pk=int(raw)).first()


@login_required
def role_grant(request: HttpRequest) -> HttpResponseBase:
    _require_admin(request)
    include = _region_from_query(request)
    if request.method == "POST":
        form = RoleGrantForm(request.POST, actor=request.user, include=include)
        if form.is_valid():
            try:
                user = (
                    role_selectors.user_list_visible(actor=request.user)
                    .filter(username=form.cleaned_data["username"].strip())
                    .first()
                )
                if user is None:
                    raise DomainError(
                        "not_found",
                        _("未找到该用户，或者其不在您的管辖范围内。"),
                        status=404,
                        field="username",
                    )
                assignment = role_services.role_grant(
                    actor=request.user,
                    user=user,
                    role=Role(form.cleaned_data["role"]),
                    region=form.regions[form.cleaned_data["region"]],
                    request=request,
                )
            except DomainError as error:
                if error.field == "user":
                    error.field = "username"
                _place_error(form, error)
            else:
                messages.success(
                    request,
                    _("已授予%(user)s“%(role)s”角色，范围：%(region)s。")
                    % {
                        "user": assignment.user,
                        "role": assignment.get_role_display(),
                        "region": assignment.region.name,
                    },
                )
                return redirect("governance:roles_list")
    else:
        initial: dict[str, Any] = {}
        if include is not None:
            initial["region"] = include.pk
        user_id = request.GET.get("user", "")
        if user_id.isdigit():
            found = role_selectors.user_list_visible(actor=request.user).filter(pk=int(user_id)).first()
            if found is not None:
                initial["username"] = found.username
        form = RoleGrantForm(initial=initial, actor=request.user, include=include)
    return render(request, "governance/roles/grant.html", {"form": form})


@login_required
def role_user_create(request: HttpRequest) -> HttpResponseBase:
    _require_admin(request)
    include = _region_from_query(request)
    if request.method == "POST":
        form = UserCreateForm(request.POST, actor=request.user, include=include)
        if form.is_valid():
            data = form.cleaned_data
            try:
                assignment = role_services.user_create_with_role(
                    actor=request.user,
                    username=data["username"],
                    password=data["password"],
                    full_name=data["full_name"],
                    role=Role(data["role"]),
                    region=form.regions[data["region"]],
                    request=request,
                )
            except DomainError as error:
                _place_error(form, error)
            else:
                messages.success(
                    request,
                    _("已开设账号 %(username)s（%(name)s），并授予“%(role)s”角色。")
                    % {
                        "username": assignment.user.username,
                        "name": assignment.user.full_name,
                        "role": assignment.get_role_display(),
                    },
                )
                return redirect("governance:roles_list")
    else:
        form = UserCreateForm(
            initial={"region": include.pk} if include is not None else None,
            actor=request.user,
            include=include,
        )
    return render(request, "governance/roles/user_create.html", {"form": form})


@login_required
def role_revoke(request: HttpRequest, assignment_id: int) -> HttpResponseBase:
    """GET asks for confirmation; POST revokes. Both answer 404 outside the admin's scope."""
    _require_admin(request)
    try:
        assignment = role_selectors.role_assignment_get(actor=request.user, assignment_id=assignment_id)
    except NotFound as missing:
        raise Http404(missing.message) from None
    error = ""
    if request.method == "POST":
        try:
            role_services.role_revoke(actor=request.user, assignment=assignment, request=request)
        except DomainError as failed:
            error = str(failed.message)
        else:
            messages.success(
                request,
                _("已撤销%(user)s在“%(region)s”的“%(role)s”角色。")
                % {
                    "user": assignment.user,
                    "region": assignment.region.name,
                    "role": assignment.get_role_display(),
                },
            )
            return redirect("governance:roles_list")
    return render(
        request,
        "governance/roles/revoke.html",
        {"assignment": assignment, "error": error},
        status=403 if error else 200,
    )
