"""CPU per request of the till's redemption API against the floor-select view, in one process.

Wall-clock throughput on a shared 2-core machine swings with whatever else runs; CPU time spent per
request does not. This drives both through Django's test client (bench.settings, its till fixtures) and
reads the CPU the Python process and its PostgreSQL backend (/proc/<pid>/stat) used per request. Point it at
the database `make bench` prepared (the DATABASE_URL's name plus "_bench", and "_skeleton" after a
`--seed-scale skeleton` run: it holds the bench tree):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi_bench_skeleton \\
        .venv/bin/python bench/cpu_redeem.py [N]

(N requests per run, default 500; the usual SECRET_KEY/DEBUG/ALLOWED_HOSTS environment of the suite.)

It prints both figures per run (two runs each, interleaved) and the ratio of the cheaper runs.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from bench.points_fixtures import TILL_USER, prepare_redemptions
    from governance.models import User

    ids = {key: int(value) for key, value in prepare_redemptions().items()}
    user = User.objects.get(username=TILL_USER)
    token, _created = Token.objects.get_or_create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="127.0.0.1")
    rng = random.Random(20261129)

    def redeem() -> None:
        body = {
            "store": ids["till_store_id"],
            "day": ids["till_day_id"],
            "household": rng.randint(ids["till_household_first"], ids["till_household_last"]),
            "lines": [{"item": rng.randint(ids["till_item_first"], ids["till_item_last"]), "quantity": 1}],
            "idempotency_key": uuid.uuid4().hex,
        }
        answer = client.post("/api/v1/points/redemptions/", json.dumps(body), content_type="application/json")
        assert answer.status_code == 201, answer.content[:300]

    def floor() -> None:
        answer = client.get(f"/bench/floor/select?pk={user.pk}")
        assert answer.status_code == 200

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def measure(call: Callable[[], None], n: int) -> tuple[float, float]:
        for _warm in range(20):
            call()
        backend, process = backend_cpu(), time.process_time()
        for _request in range(n):
            call()
        return (time.process_time() - process) / n * 1000, (backend_cpu() - backend) / n * 1000

    n = int(argv[0]) if argv else 500
    totals: dict[str, list[float]] = {"floor-select": [], "points-redeem": []}
    for name, call in (("floor-select", floor), ("points-redeem", redeem)) * 2:
        python_ms, postgres_ms = measure(call, n)
        totals[name].append(python_ms + postgres_ms)
        print(f"{name:14s} python {python_ms:.2f} ms  postgres {postgres_ms:.2f} ms  per request")
    ratio = min(totals["floor-select"]) / min(totals["points-redeem"])
    print(f"cpu ratio floor-select / points-redeem = {ratio:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
