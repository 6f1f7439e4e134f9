"""The Kuzzle API over HTTP: one exchange (:mod:`.exchange`), two adapters (ASGI, DRF)."""
