from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def metric_type_sync(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every migrate: each registered metric's name is a value of the facts' enum type (a metric an
    app registers after migration 0009 arrives here, not in a migration)."""
    from governance.rollups.engine import metric_type_sync as sync

    sync(using=using)


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("组织治理")

    def ready(self) -> None:
        from governance import checks  # noqa: F401  (registers the deploy checks)

        post_migrate.connect(metric_type_sync, sender=self, dispatch_uid="governance.metric_type_sync")
