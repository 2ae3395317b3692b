"""Settings for benchmark runs: the production settings plus the floor views' URLs (bench/urls.py).

The floor views exist only here, never in config.urls. Everything else (middleware, database, cache)
is exactly what config.settings reads from the environment, so a floor and a scenario pay the same stack.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
