"""Settings of the benchmarks' Django servers: the project's settings, plus the bench app
(``BENCH_PIPES``) and a URLconf that adds the bare DRF view next to the Kuzzle API.
``BENCH_SECURITY_CACHE_TTL`` (seconds) sets ``SECURITY_CACHE_TTL`` (``server_instructions.py``)."""

import os

from project.settings import *  # noqa: F401,F403
from project.settings import INSTALLED_APPS, KUZZLE_EVENTS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.pipes"]
ROOT_URLCONF = "bench.urls"
if os.environ.get("BENCH_SECURITY_CACHE_TTL"):
    KUZZLE_EVENTS = {**KUZZLE_EVENTS, "SECURITY_CACHE_TTL": float(os.environ["BENCH_SECURITY_CACHE_TTL"])}
