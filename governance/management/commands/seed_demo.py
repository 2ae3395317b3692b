import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from governance.demo import (
    COUNT_LABELS,
    DEMO_LOGINS,
    SCALE_NAMES,
    demo_county_counts,
    demo_county_populated,
    seed_demo_county,
)


class Command(BaseCommand):
    help = (
        "Build the demo county 谷城县 (towns, villages, 3,551 grids, people, Party organisations) and the "
        "demo log-ins. Safe to run again: an existing county is left as it is, only the demo passwords "
        "are reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=SCALE_NAMES,
            default="default",
            help="default: ~10 households per grid (~35,000); county: ~100 per grid (~355,000, for "
            "PostgreSQL); test: a few villages; skeleton: only the regions the demo log-ins need",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo log-ins")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()

        def progress(message: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f}s] {message}")

        if demo_county_populated():
            self.stdout.write(self.style.WARNING(_("演示县谷城县已经生成过，本次不再重复生成。")))
        seed_demo_county(scale=options["scale"], progress=progress)
        counts = demo_county_counts()
        self.stdout.write(
            self.style.SUCCESS(_("演示县已就绪（用时 %(s).1f 秒）：") % {"s": time.monotonic() - started})
        )
        for key, label in COUNT_LABELS.items():
            self.stdout.write(f"  {label:<16}{counts.get(key, 0):>10,}")
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(_("演示账号（密码均为 %(password)s）：") % {"password": settings.DEMO_PASSWORD})
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<18} {login.full_name:<4}  {login.what}")
