"""The drills' settings: the project's own (config.settings), plus the database-unavailable middleware
(common.db_errors) when config.settings does not list it yet, so the PostgreSQL-restart drill measures the
handling the deployment is meant to have (the drill's facts say when it had to add it), and collectstatic's
output in the drill's working directory (DRILLS_STATIC_ROOT) instead of the checkout's."""

import os
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE, STATIC_ROOT

DB_ERRORS_MIDDLEWARE = "common.db_errors.DatabaseUnavailableMiddleware"
# DRILLS_WITHOUT_DB_ERRORS=1 runs the drill on config.settings as they are (to see what clients get then).
DB_ERRORS_MIDDLEWARE_ADDED = DB_ERRORS_MIDDLEWARE not in MIDDLEWARE and not os.environ.get(
    "DRILLS_WITHOUT_DB_ERRORS"
)
if DB_ERRORS_MIDDLEWARE_ADDED:
    MIDDLEWARE = [*MIDDLEWARE, DB_ERRORS_MIDDLEWARE]

STATIC_ROOT = Path(os.environ.get("DRILLS_STATIC_ROOT") or STATIC_ROOT)
