"""Settings of ``bench/load.py``'s server: the benchmarks' settings, plus the plugin whose pipe
makes ``server:info`` fail (``bench/load_plugin.py``)."""

from bench.settings import *  # noqa: F401,F403
from project.settings import KUZZLE_EVENTS as _PROJECT_KUZZLE_EVENTS

KUZZLE_EVENTS = {**_PROJECT_KUZZLE_EVENTS, "PLUGINS": {"bench.load_plugin.LoadBenchPlugin": {}}}
