"""`python manage.py points_verify`: run the ledger verification now; exits 1 naming each difference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from points.services.ledger_check import ledger_verify


class Command(BaseCommand):
    help = (
        "核对积分账务：每个账户的余额等于其分录合计、每笔交易借贷平衡、余额与库存不为负。"
        "有差异时以非零状态退出。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        check = ledger_verify()
        if not check.is_ok:
            for difference in check.differences:
                self.stderr.write(difference["text"])
            raise CommandError(f"积分账务核对发现 {len(check.differences)} 处差异（核对记录 #{check.pk}）。")
        self.stdout.write(
            self.style.SUCCESS(f"积分账务核对一致：{check.accounts_checked} 个账户（核对记录 #{check.pk}）。")
        )
