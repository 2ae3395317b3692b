"""The dashboard's data-quality panel as a page (/dashboard/quality/), and the county admins' two buttons:
立即汇总 (queue an incremental rollup pass) and 核对汇总 (queue a verification of every fact).

The buttons are plain POST forms (CSRF; no script). A second click while the first is still queued
queues nothing: each request takes a cache key with cache.add (atomic in Redis) that the task deletes
when it ends (and that expires after the task's hard time limit); an incremental pass is also refused
while another rollup run holds the rollup lock. Tasks are sent by name, routed to the rollups queue by
CELERY_TASK_ROUTES.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from common.errors import NotFound
from governance.rollups import lock
from governance.selectors import quality as quality_selectors

TASKS = {"incremental": "governance.rollup_incremental", "verify": "governance.rollup_verify"}


def _send(action: str) -> None:
    """Through the task object when it is registered (so the embedded demo's eager mode runs it), else
    by name (a worker that has it runs it)."""
    from governance import tasks

    task = getattr(tasks, f"rollup_{action}", None)
    if task is not None:
        task.delay()
        return
    from config.celery import app

    app.send_task(TASKS[action])


def _queue(request: HttpRequest, action: str) -> None:
    """Queue `action` once; say in a flash message what happened."""
    if connection.vendor != "postgresql":
        messages.warning(request, _("汇总需要 PostgreSQL 数据库，演示环境不运行汇总。"))
        return
    if action == "incremental" and lock.holder() is not None:
        messages.warning(request, _("汇总正在运行，请稍后再试。"))
        return
    key = quality_selectors.QUEUED_KEYS[action]
    if not cache.add(key, "1", timeout=quality_selectors.QUEUED_TIMEOUTS[action]):
        if action == "verify":
            messages.info(request, _("核对已在排队，完成后这里会显示结果，无需重复提交。"))
        else:
            messages.info(request, _("汇总已在排队，无需重复提交。"))
        return
    try:
        _send(action)
    except Exception:
        cache.delete(key)
        raise
    if action == "verify":
        messages.success(request, _("已提交核对，核对全部汇总数据需要几分钟，完成后刷新本页查看结果。"))
    else:
        messages.success(request, _("已提交汇总，通常一分钟内完成，稍后刷新本页查看。"))


@login_required
@require_http_methods(["GET", "POST"])
def quality_page(request: HttpRequest) -> HttpResponseBase:
    """The panel full-page; POST action=incremental|verify (county admins) queues a pass or a check."""
    try:
        panel = quality_selectors.quality_for(user=request.user)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    if request.method == "POST":
        if not panel.can_run:
            raise PermissionDenied(_("只有县级管理员可以发起汇总或核对。"))
        action = request.POST.get("action", "")
        if action not in TASKS:
            messages.error(request, _("无法识别的操作。"))
        else:
            _queue(request, action)
        return redirect("dashboard:quality")
    response: HttpResponse = render(request, "governance/dashboard/quality.html", {"quality": panel})
    return response
