"""Data: mask the site phones stored whole before canteens.services.sites.site_phone_clean recognised every
spelling of a mobile (full-width digits, +86 / 0086 / 86 or a trunk 0 in front): such a number was kept as
typed, and pages, the API and Excel showed it in full. A landline stays as it is. Reversing does nothing
(the whole numbers are not kept anywhere to restore)."""

import re
import unicodedata

from django.db import migrations

# As site_phone_clean on the day of this migration (a migration does not import code that may change).
MOBILE = re.compile(r"(?:\+86|0086|86|0)(1[3-9][0-9]{9})|(1[0-9]{10})")


def mask_stored_mobiles(apps, schema_editor):
    Site = apps.get_model("canteens", "Site")
    for site in (
        Site.objects.exclude(phone_masked="").exclude(phone_masked__contains="*").only("phone_masked")
    ):
        value = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", site.phone_masked))
        mobile = MOBILE.fullmatch(value)
        if mobile:
            number = mobile.group(1) or mobile.group(2)
            site.phone_masked = f"{number[:3]}****{number[-4:]}"
            site.save(update_fields=["phone_masked"])


class Migration(migrations.Migration):
    dependencies = [("canteens", "0002_ledger_triggers")]

    operations = [migrations.RunPython(mask_stored_mobiles, migrations.RunPython.noop)]
