"""`python -m hardening.drills.roster_job ROWS PATH`: write a valid roster of ROWS rows over the demo grids
(bench/import_bench.py's roster_write) to PATH and queue its import as county_admin (all-or-nothing, the
template's headers, so no confirmation step); prints `DRILL_ROSTER {"job": id, "residents_before": n}`.
With REDIS_URL set the import task goes to the broker after the commit, for a worker to run."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hardening.drills.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bench.import_bench import roster_write
    from governance.models import ImportMode, Region, RegionLevel, Resident, User
    from governance.services import roster as roster_services

    rows, path = int(sys.argv[1]), Path(sys.argv[2])
    grid_codes = list(
        Region.objects.filter(level=RegionLevel.GRID)
        .exclude(code="")
        .order_by("path")
        .values_list("code", flat=True)
    )
    taken = set(Resident.objects.values_list("id_number_hash", flat=True))
    roster_write(path, rows, grid_codes, taken)
    residents_before = Resident.objects.count()
    job = roster_services.roster_import_create(
        actor=User.objects.get(username="county_admin"),
        upload=SimpleUploadedFile("drill-roster.xlsx", path.read_bytes()),
        mode=ImportMode.ALL_OR_NOTHING,
        idempotency_key=f"drill-{time.time()}",
    )
    print("DRILL_ROSTER " + json.dumps({"job": job.pk, "residents_before": residents_before}))


if __name__ == "__main__":
    main()
