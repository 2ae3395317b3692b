from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def pii_key_is_set(app_configs, **kwargs):
    if settings.PII_KEY:
        return []
    return [
        Warning(
            "PII_KEY is not set: personal data is encrypted with a key derived from SECRET_KEY.",
            hint="Set PII_KEY to a long random string and keep it safe; rotating SECRET_KEY must not "
            "make ID numbers unreadable.",
            id="governance.W001",
        )
    ]
