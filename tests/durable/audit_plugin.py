"""A plugin with a durable hook, for the tests that run the project in processes of its own.

``KUZZLE_PLUGINS=tests.durable.audit_plugin.AuditPlugin``; ``DURABLE_AUDIT_DIR``: where the hook
writes ``audit.log``, one line when it starts (``start <delivery id> <pid>``) and one when it is
done (``done <delivery id> <document id>``). While a file ``block`` exists there, a started hook
waits (a hook killed in the middle of its work).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from kuzzle_events.plugin import Plugin, hook


def audit_dir() -> Path:
    return Path(os.environ["DURABLE_AUDIT_DIR"])


def write(line: str) -> None:
    with (audit_dir() / "audit.log").open("a") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())


class AuditPlugin(Plugin):
    manifest = {"name": "audit", "kuzzle_events": ">=0.1"}

    @hook("document:afterCreate", durable=True, backoff=0.1)
    async def audit(self, request: dict[str, Any], *, delivery_id: str) -> None:
        write(f"start {delivery_id} {os.getpid()}")
        while (audit_dir() / "block").exists():
            await asyncio.sleep(0.05)
        write(f"done {delivery_id} {request['result']['_id']}")


def audit_lines(directory: Path) -> list[list[str]]:
    """The lines of ``audit.log``, split."""
    log = directory / "audit.log"
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []
