from django.conf import settings
from django.core.management.base import BaseCommand

from governance.demo import DEMO_LOGINS, seed_demo_county


class Command(BaseCommand):
    help = "Load (or complete) the demo county 谷城县 and its demo log-ins. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo log-ins")

    def handle(self, *args, **options):
        regions = seed_demo_county()
        self.stdout.write(self.style.SUCCESS(f"演示县已就绪：{len(regions)} 个区域。"))
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {settings.DEMO_PASSWORD}）：")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<18} {login.full_name:<4}  {login.what}")
