"""Benchmarks of kuzzle_events (``python bench/<name>.py``) and the modules their servers load."""
