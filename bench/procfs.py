"""What /proc says of a server process and its descendants: CPU time, memory, open sockets."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_cpu", "process_memory", "socket_count"]

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its descendants, every thread included."""
    total = 0.0
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rfind(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return total
    return total + sum(process_cpu(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return []


def process_memory(pid: int) -> dict[str, int]:
    """Memory of ``pid`` and its descendants in KiB: ``rss`` (VmRSS of /proc/PID/status) and
    ``pss`` (Pss of /proc/PID/smaps_rollup: shared pages divided among the processes sharing them)."""
    totals = {"rss": 0, "pss": 0}
    for path, field_name, key in (
        (f"/proc/{pid}/status", "VmRSS:", "rss"),
        (f"/proc/{pid}/smaps_rollup", "Pss:", "pss"),
    ):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(field_name):
                    totals[key] += int(line.split()[1])  # "VmRSS:   12345 kB"
                    break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    for child in _children(pid):
        for key, value in process_memory(child).items():
            totals[key] += value
    return totals


def socket_count(pid: int) -> int:
    """Open sockets of ``pid`` and its descendants (its /proc/PID/fd links to ``socket:[...]``)."""
    count = 0
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                count += os.readlink(fd).startswith("socket:")
            except OSError:
                pass  # closed meanwhile
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return count + sum(socket_count(child) for child in _children(pid))
