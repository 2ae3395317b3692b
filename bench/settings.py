"""Settings for benchmark runs: the production settings plus the floor views' URLs (bench/urls.py) and
a first middleware that reports the server's own time per answer (bench/middleware.py).

The floor views exist only here, never in config.urls. Everything else (middleware, database, cache)
is exactly what config.settings reads from the environment, so a floor and a scenario pay the same stack
(the timing middleware included: a perf_counter pair and a query counter, microseconds).
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]
