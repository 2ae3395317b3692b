"""Schema fuzzing (issue 9, docs/reliability.md): every operation of /api/schema/ as every demo role.

`make fuzz` runs `python -m hardening.fuzz`; `make fuzz FUZZ_ARGS=--quick` is a small run.

What it does, in order:
1. Points Django at its own database (default `xiangzhi_fuzz` on the server of DATABASE_URL; created when
   missing), migrates it and seeds the demo county at the `test` scale so every demo role can log in.
2. Takes an API token for each demo role from POST /api/v1/auth/token/.
3. Loads /api/schema/ through the WSGI app, in process (no HTTP server, no socket), with schemathesis.
4. For each role (least privileged first): every operation, positive cases (data the schema allows) and
   negative cases (data it refuses); then a stateful phase that follows the links schemathesis infers
   between operations (a list's ids fed into the detail, update and action operations).
5. Every response is checked: no 5xx (`not_a_server_error`), and the body, content type and headers match
   what the schema declares for that status (`response_schema_conformance`, `content_type_conformance`,
   `response_headers_conformance`).

Celery tasks run eagerly in process, so queued work is fuzzed too and nothing lands on a shared queue.
It prints the cases per role and per operation, every failure with a curl line to reproduce it and the
server's traceback, and a one-line verdict; the exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The demo log-ins, least privileged first: a higher role's writes (deleting a role assignment, changing the
# county's configuration) then cannot take away what a lower role's run needs.
ROLES = ("grid_leader", "canteen_manager", "village_secretary", "township_admin", "county_admin")
DEFAULT_DATABASE = "xiangzhi_fuzz"
TOKEN_PATH = "/api/v1/auth/token/"  # noqa: S105 (a URL, not a password)
SCHEMA_PATH = "/api/schema/"
# Revoking the caller's token ends that role's session: it is fuzzed last for each role and kept out of the
# stateful phase (a scenario that revoked it would leave every later step a 401).
LAST_PATH_REGEX = r"/auth/token/revoke/$"

# Test-only defaults, the same as the Makefile's TEST_ENV (`make fuzz` exports them already).
_ENV_DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECURE_HTTPS": "0",
    "SECRET_KEY": "test-only-secret-key-for-the-suite-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
}


@dataclass
class Profile:
    """How many cases: per operation and role (positive, negative) and the stateful phase's size."""

    positive: int
    negative: int
    scenarios: int
    steps: int


PROFILES = {
    "full": Profile(positive=6, negative=3, scenarios=40, steps=10),
    "quick": Profile(positive=2, negative=1, scenarios=5, steps=6),
}


@dataclass
class Failure:
    role: str
    operation: str
    phase: str
    status: int | None
    checks: list[str]
    message: str
    reproduction: str
    server_traceback: str = ""


@dataclass
class Tally:
    """Cases run, per role and operation, and the failures found."""

    cases: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    seen: set[tuple[str, str, str, int | None]] = field(default_factory=set)
    unsatisfiable: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add_failure(self, failure: Failure) -> None:
        # One report per (role, operation, check, status): the same defect found again adds nothing.
        key = (failure.role, failure.operation, ",".join(failure.checks), failure.status)
        if key not in self.seen:
            self.seen.add(key)
            self.failures.append(failure)

    def total(self) -> int:
        return sum(self.cases.values())


class _ServerErrors(logging.Handler):
    """Keeps the last traceback Django logged for a 500, to print beside the failing case."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info))[-4000:]
        else:
            self.last = record.getMessage()

    def take(self) -> str:
        last, self.last = self.last, ""
        return last


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hardening.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (a few cases per operation)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database name (default %(default)s)")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated demo log-ins")
    parser.add_argument("--operations", default="", help="only operations whose path contains this text")
    parser.add_argument("--positive", type=int, help="positive cases per operation and role")
    parser.add_argument("--negative", type=int, help="negative cases per operation and role")
    parser.add_argument("--scenarios", type=int, help="stateful scenarios per role (0: no stateful phase)")
    parser.add_argument("--steps", type=int, help="steps per stateful scenario")
    parser.add_argument("--seed", type=int, default=9, help="Hypothesis seed (default %(default)s)")
    parser.add_argument("--no-seed-demo", action="store_true", help="skip migrate and seed_demo")
    return parser.parse_args(argv)


def _database_url(name: str) -> str:
    """DATABASE_URL with its database name replaced: the fuzz writes only to its own database."""
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/xiangzhi"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def prepare(*, database: str, seed_demo: bool = True) -> None:
    """Environment, database, migrations and the demo log-ins; Django is set up afterwards."""
    for key, value in _ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    url = _database_url(database)
    os.environ["DATABASE_URL"] = url
    _ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from config.celery import app as celery_app

    # Queued work runs in this process against the fuzz database (and is fuzzed with it).
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    if seed_demo:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("seed_demo", scale="test", quiet_logins=True, verbosity=0)


def tokens_for(roles: Iterable[str]) -> dict[str, str]:
    """An API token per demo log-in, through the token endpoint itself."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    result = {}
    for role in roles:
        response = client.post(
            TOKEN_PATH,
            {"username": role, "password": settings.DEMO_PASSWORD},
            content_type="application/json",
        )
        if response.status_code != 200:
            raise SystemExit(
                f"fuzz: {role} cannot log in ({response.status_code}): {response.content[:200]!r}"
            )
        result[role] = response.json()["token"]
    return result


def load_schema() -> Any:
    import schemathesis

    from config.wsgi import application

    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)


def _checks() -> list[Callable[..., Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    )

    return [
        not_a_server_error,
        response_schema_conformance,
        content_type_conformance,
        response_headers_conformance,
    ]


class Fuzzer:
    """Runs the cases for one role and records them in a shared tally."""

    def __init__(self, *, schema: Any, tally: Tally, errors: _ServerErrors, seed: int) -> None:
        self.schema = schema
        self.tally = tally
        self.errors = errors
        self.seed = seed
        self.checks = _checks()

    def _check(self, *, role: str, phase: str, headers: dict[str, str], case: Any, response: Any) -> None:
        from schemathesis.core.failures import FailureGroup

        label = case.operation.label
        self.tally.cases[(role, label)] += 1
        self.tally.statuses[response.status_code] += 1
        server_traceback = self.errors.take() if response.status_code >= 500 else ""
        try:
            case.validate_response(response, checks=self.checks, headers=headers)
        except FailureGroup as group:
            self.tally.add_failure(
                Failure(
                    role=role,
                    operation=label,
                    phase=phase,
                    status=response.status_code,
                    checks=sorted({type(f).__name__ for f in group.exceptions}),
                    message="\n".join(str(f.title) + ": " + str(f.message)[:600] for f in group.exceptions),
                    reproduction=case.as_curl_command(headers=headers),
                    server_traceback=server_traceback,
                )
            )

    def _crash(self, *, role: str, label: str, phase: str, exc: BaseException) -> None:
        self.tally.add_failure(
            Failure(
                role=role,
                operation=label,
                phase=phase,
                status=None,
                checks=[type(exc).__name__],
                message="".join(traceback.format_exception(exc))[-3000:],
                reproduction="",
            )
        )

    def operation(self, *, role: str, token: str, operation: Any, positive: int, negative: int) -> None:
        import hypothesis
        from schemathesis import GenerationMode

        headers = {"Authorization": f"Token {token}"}
        for mode, count in ((GenerationMode.POSITIVE, positive), (GenerationMode.NEGATIVE, negative)):
            if count <= 0:
                continue
            test = self._operation_test(
                role=role, headers=headers, operation=operation, mode=mode, count=count
            )
            try:
                hypothesis.seed(self.seed)(test)()
            except hypothesis.errors.Unsatisfiable:
                # No parameters and no body: there is nothing to make invalid, so no negative case.
                self.tally.unsatisfiable[(operation.label, str(mode.value))] += 1
            except Exception as exc:  # a case that could not be generated or sent is a failure too
                self._crash(role=role, label=operation.label, phase=str(mode.value), exc=exc)

    def _operation_test(
        self, *, role: str, headers: dict[str, str], operation: Any, mode: Any, count: int
    ) -> Callable[[], None]:
        import hypothesis

        @hypothesis.settings(
            max_examples=count,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.generate],
            verbosity=hypothesis.Verbosity.quiet,
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def test(case: Any) -> None:
            response = case.call(headers=headers)
            self._check(role=role, phase=str(mode.value), headers=headers, case=case, response=response)

        return test

    def stateful(self, *, role: str, token: str, scenarios: int, steps: int, only: str) -> None:
        import hypothesis
        from hypothesis.stateful import run_state_machine_as_test
        from schemathesis.core.errors import NoLinksFound

        if scenarios <= 0:
            return
        headers = {"Authorization": f"Token {token}"}
        fuzzer = self
        schema = self.schema.exclude(path_regex=LAST_PATH_REGEX)
        if only:
            schema = schema.include(path_regex=re.escape(only))
        try:
            base = schema.as_state_machine()
        except NoLinksFound:
            return  # operations chosen with --operations that link to none of each other

        class Machine(base):  # type: ignore[misc,valid-type]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"headers": headers}

            def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
                fuzzer._check(role=role, phase="stateful", headers=headers, case=case, response=response)

        try:
            run_state_machine_as_test(
                Machine,
                settings=hypothesis.settings(
                    max_examples=scenarios,
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(hypothesis.HealthCheck),
                    phases=[hypothesis.Phase.generate],
                    verbosity=hypothesis.Verbosity.quiet,
                ),
            )
        except NoLinksFound:
            pass  # operations chosen with --operations that link to none of each other
        except Exception as exc:
            self._crash(role=role, label="(stateful)", phase="stateful", exc=exc)


def report(tally: Tally, *, roles: Iterable[str], seconds: float, out: Any = sys.stdout) -> None:
    roles = list(roles)
    per_role = Counter[str]()
    per_operation: dict[str, Counter[str]] = defaultdict(Counter)
    for (role, label), count in tally.cases.items():
        per_role[role] += count
        per_operation[label][role] += count
    print("\n== cases per operation (" + " / ".join(roles) + ")", file=out)
    for label in sorted(per_operation):
        counts = " / ".join(str(per_operation[label][r]) for r in roles)
        print(f"  {label:<70} {counts}", file=out)
    print("\n== cases per role", file=out)
    for role in roles:
        print(f"  {role:<18} {per_role[role]:>6}", file=out)
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(tally.statuses.items()))
    print(f"\n== responses by status: {statuses}", file=out)
    if tally.failures:
        print(f"\n== {len(tally.failures)} failures", file=out)
        for n, f in enumerate(tally.failures, 1):
            print(
                f"\n[{n}] {f.role} · {f.operation} · {f.phase} · status {f.status} · {', '.join(f.checks)}",
                file=out,
            )
            print("    " + f.message.replace("\n", "\n    "), file=out)
            if f.reproduction:
                print("    reproduce: " + f.reproduction, file=out)
            if f.server_traceback:
                print("    server: " + f.server_traceback.replace("\n", "\n    "), file=out)
    verdict = "PASS" if not tally.failures else "FAIL"
    print(
        f"\nfuzz: {verdict} — {tally.total()} cases, {len(per_operation)} operations, {len(roles)} roles, "
        f"{len(tally.failures)} failures, 5xx: {sum(n for c, n in tally.statuses.items() if c >= 500)}, "
        f"{seconds:.0f} s",
        file=out,
    )


def run(
    *,
    roles: list[str],
    profile: Profile,
    seed: int,
    only: str = "",
    schema: Any = None,
    tokens: dict[str, str] | None = None,
    progress: Any = sys.stderr,
) -> Tally:
    """Fuzz every operation (or those whose path contains `only`) as each role; Django must be set up."""
    # First: importing the WSGI app sets Django up again, which reconfigures logging (and would drop the
    # handler below).
    schema = schema if schema is not None else load_schema()
    tokens = tokens if tokens is not None else tokens_for(roles)
    errors = _ServerErrors()
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(errors)
    previous_request = (request_logger.level, request_logger.propagate)
    request_logger.setLevel(logging.ERROR)
    request_logger.propagate = False
    # 4xx warnings for every refused case would drown the report; errors are captured above.
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.CRITICAL)
    try:
        operations = [result.ok() for result in schema.get_all_operations()]
        operations = [op for op in operations if only in op.path]
        # Token revocation last (see LAST_PATH_REGEX); a stable sort keeps the schema's order otherwise.
        operations.sort(key=lambda op: bool(re.search(LAST_PATH_REGEX, op.path)))
        tally = Tally()
        fuzzer = Fuzzer(schema=schema, tally=tally, errors=errors, seed=seed)
        for role in roles:
            started = time.monotonic()
            ordinary = [op for op in operations if not re.search(LAST_PATH_REGEX, op.path)]
            for operation in ordinary:
                fuzzer.operation(
                    role=role,
                    token=tokens[role],
                    operation=operation,
                    positive=profile.positive,
                    negative=profile.negative,
                )
            fuzzer.stateful(
                role=role, token=tokens[role], scenarios=profile.scenarios, steps=profile.steps, only=only
            )
            for operation in operations[len(ordinary) :]:
                fuzzer.operation(
                    role=role,
                    token=tokens[role],
                    operation=operation,
                    positive=profile.positive,
                    negative=profile.negative,
                )
            done = sum(n for (r, _), n in tally.cases.items() if r == role)
            print(
                f"fuzz: {role}: {done} cases, {len(tally.failures)} failures so far, "
                f"{time.monotonic() - started:.0f} s",
                file=progress,
                flush=True,
            )
        return tally
    finally:
        request_logger.removeHandler(errors)
        request_logger.setLevel(previous_request[0])
        request_logger.propagate = previous_request[1]
        logging.getLogger().setLevel(previous_level)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    profile = PROFILES["quick" if args.quick else "full"]
    profile = Profile(
        positive=profile.positive if args.positive is None else args.positive,
        negative=profile.negative if args.negative is None else args.negative,
        scenarios=profile.scenarios if args.scenarios is None else args.scenarios,
        steps=profile.steps if args.steps is None else args.steps,
    )
    roles = [r for r in args.roles.split(",") if r]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        print(f"fuzz: unknown role(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    prepare(database=args.database, seed_demo=not args.no_seed_demo)
    print(f"fuzz: database ready ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    tally = run(roles=roles, profile=profile, seed=args.seed, only=args.operations)
    report(tally, roles=roles, seconds=time.monotonic() - started)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
