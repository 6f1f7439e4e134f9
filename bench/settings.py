"""Settings of the benchmarks' Django servers: the project's settings, plus the bench app
(``BENCH_PIPES``) and a URLconf that adds the bare DRF view next to the Kuzzle API."""

from project.settings import *  # noqa: F401,F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.pipes"]
ROOT_URLCONF = "bench.urls"
