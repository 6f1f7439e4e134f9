"""Bench-only app: ``BENCH_PIPES=N`` registers N no-op async pipes on the path of ``server:now``."""
