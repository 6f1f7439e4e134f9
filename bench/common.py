"""What the server benchmarks share: servers started on core 0, load generators on core 1, CPU
accounting from /proc (:mod:`bench.procfs`), wrk, and the summary table.

Everything runs on 127.0.0.1 and every measurement is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procfs import process_cpu

REPO = Path(__file__).resolve().parent.parent
_VENV_PY = REPO / ".venv" / "bin" / "python"
PY = str(_VENV_PY) if _VENV_PY.exists() else sys.executable
BIN = Path(PY).parent
SERVER_CORE = "0"
CLIENT_CORE = "1"
HOST = "127.0.0.1"


def rel(path: str | Path) -> str:
    """A path as the commands are printed: relative to the repository when inside it."""
    try:
        return str(Path(path).relative_to(REPO))
    except ValueError:
        return str(path)


def show(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """A command line as a reader can paste it (from the repository's root)."""
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    line = shlex.join(rel(a) if a.startswith(str(REPO)) else a for a in argv)
    return f"{prefix} {line}" if prefix else line


def describe_code() -> str:
    """The revision measured (read-only git), and whether the product code differs from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "diff", "--no-ext-diff", "--quiet", "HEAD", "--", "kuzzle_events", "project"],
            timeout=10,
        ).returncode
        untracked = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "--others", "--exclude-standard", "--", "kuzzle_events", "project"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    dirty = " + uncommitted changes in kuzzle_events/ or project/" if changed or untracked else ""
    return f"{head or 'unknown revision'}{dirty}"


def print_environment(packages: Sequence[str]) -> None:
    from importlib import metadata

    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    print(f"code: {describe_code()}; python {sys.version.split()[0]}; {', '.join(versions)}", flush=True)


def check_machine() -> None:
    cores = os.cpu_count() or 1
    if cores < 2:
        sys.exit("These benchmarks need 2 cores (server on core 0, load generator on core 1).")
    if not shutil.which("taskset"):
        sys.exit("taskset is missing (util-linux).")


def cores_sample() -> dict[str, list[int]]:
    lines = Path("/proc/stat").read_text().splitlines()
    return {ln.split()[0]: [int(x) for x in ln.split()[1:9]] for ln in lines if re.match(r"cpu\d+ ", ln)}


def core_busy(seconds: float = 1.0, a: dict[str, list[int]] | None = None) -> dict[str, float]:
    """Busy fraction of each core over ``seconds`` (from /proc/stat), or since sample ``a``."""
    if a is None:
        a = cores_sample()
        time.sleep(seconds)
    b = cores_sample()
    busy = {}
    for cpu in a:
        delta = [y - x for x, y in zip(a[cpu], b[cpu])]
        total = sum(delta) or 1
        busy[cpu] = 1 - (delta[3] + delta[4]) / total  # idle + iowait
    return busy


def warn_if_busy(max_wait: float | None = None) -> None:
    """Wait up to ``max_wait`` seconds (``BENCH_QUIET_WAIT``, default 30) for both cores to be
    quiet, and say so when something else still uses them: the figures are then noisier."""
    if max_wait is None:
        max_wait = float(os.environ.get("BENCH_QUIET_WAIT", "30"))
    deadline = time.monotonic() + max_wait
    while True:
        busy = core_busy()
        if all(b <= 0.10 for b in busy.values()) or time.monotonic() >= deadline:
            break
    text = ", ".join(f"{cpu} {100 * b:.0f}%" for cpu, b in busy.items())
    if any(b > 0.10 for b in busy.values()):
        print(
            f"WARNING: cores already busy before starting ({text}): other processes compete with the "
            "benchmark; rates are noisy, the per-cpu ratios less so.",
            flush=True,
        )
    else:
        print(f"cores busy before starting: {text}", flush=True)


def ensure_wrk() -> str:
    """wrk's path, installing it with apt when it is missing and we may."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk missing: apt-get install -y wrk", flush=True)
        subprocess.run("apt-get update -qq && apt-get install -y -qq wrk", shell=True, check=False, timeout=300)
        path = shutil.which("wrk")
    if not path:
        sys.exit("wrk is missing: apt-get update -qq && apt-get install -y -qq wrk")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_DATABASE: list[str] = []


def bench_database() -> str:
    """A migrated SQLite database of the benchmarks' own (servers read their rights from it at start)."""
    if not _DATABASE:
        path = Path(tempfile.mkdtemp(prefix="bench-db-")) / "db.sqlite3"
        url = f"sqlite:///{path}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
        _DATABASE.append(url)
    return _DATABASE[0]


@dataclass
class Server:
    """One server process pinned to the server core; ``stop()`` ends it (its process group)."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = None  # HTTP GET that must answer 200 before measuring
    log_marker: str | None = None  # a line the log must contain once ready
    proc: subprocess.Popen[bytes] | None = None
    log_path: str = ""

    @property
    def command(self) -> list[str]:
        return ["taskset", "-c", SERVER_CORE, *self.argv]

    def shown(self) -> str:
        return show(self.command, self.env)

    def start(self) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="bench-server-", suffix=".log")
        env = {**os.environ, "DATABASE_URL": bench_database(), **self.env, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.command, cwd=REPO, env=env, stdout=fd, stderr=subprocess.STDOUT, start_new_session=True
        )
        os.close(fd)

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 40.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()[-3000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    pass
                if self.ready_path:
                    with urllib.request.urlopen(f"http://{HOST}:{self.port}{self.ready_path}", timeout=5) as r:
                        if r.status != 200:
                            raise OSError(r.status)
                if self.log_marker and self.log_marker not in self.log():
                    raise OSError("marker not logged yet")
                return
            except OSError:
                time.sleep(0.2)

    def cpu(self) -> float:
        return process_cpu(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        try:
            self._stop()
        finally:
            if self.log_path:
                Path(self.log_path).unlink(missing_ok=True)

    def _stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this script created for it
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


class Servers:
    """Start several servers at once (all on the server core), stop them all on exit."""

    def __init__(self, servers: Sequence[Server]) -> None:
        self.servers = list(servers)

    def __enter__(self) -> Servers:
        try:
            for server in self.servers:
                server.start()
            for server in self.servers:
                server.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for server in self.servers:
            server.stop()


def uvicorn_argv(app: str, port: int, *extra: str) -> list[str]:
    """uvicorn as production runs it: 1 worker, uvloop, httptools, no access log."""
    return [
        str(BIN / "uvicorn"), app,
        "--host", HOST, "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
        *extra,
    ]  # fmt: skip


def http_get_json(url: str) -> tuple[int, dict[str, str], Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), json.loads(response.read())


# wrk -------------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_argv(url: str, duration: float, connections: int) -> list[str]:
    return ["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", url]


def run_wrk(url: str, duration: float, connections: int, server: Server | None = None) -> dict[str, Any]:
    """One wrk run: req/s, p99 (ms), errors, and the server's CPU use over the run."""
    argv = wrk_argv(url, duration, connections)
    cpu0, t0, cores = (server.cpu() if server else 0.0), time.monotonic(), cores_sample()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    elapsed = time.monotonic() - t0
    cpu1 = server.cpu() if server else 0.0
    core0 = core_busy(a=cores)[f"cpu{SERVER_CORE}"]
    text = out.stdout + out.stderr
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if not rps:
        raise RuntimeError(f"wrk output not understood:\n{text}")
    return {
        "rate": float(rps.group(1)),
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else None,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, sock.groups())) if sock else 0,
        "server_cpu": (cpu1 - cpu0) / elapsed if server else None,
        # Busy time of the server's core not spent by the server (other processes, interrupts).
        "others_cpu": max(0.0, core0 - (cpu1 - cpu0) / elapsed) if server else None,
    }


# Results ---------------------------------------------------------------------------------------


def median_result(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median rate (its p99 and CPU with it), plus every round's rate."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    middle = dict(ordered[len(ordered) // 2])
    middle["rate"] = statistics.median(r["rate"] for r in runs)
    middle["rounds"] = [r["rate"] for r in runs]
    efficiency = [r["rate"] / r["server_cpu"] for r in runs if r.get("server_cpu")]
    middle["per_cpu"] = statistics.median(efficiency) if efficiency else None
    others = [r["others_cpu"] for r in runs if r.get("others_cpu") is not None]
    middle["others_max"] = max(others) if others else None
    middle["errors"] = sum(r.get("non2xx", 0) + r.get("socket_errors", 0) + r.get("errors", 0) for r in runs)
    return middle


def fmt_rate(r: dict[str, Any]) -> str:
    return f"{r['rate']:,.0f}"


def fmt_p99(r: dict[str, Any]) -> str:
    return "-" if r.get("p99_ms") is None else f"{r['p99_ms']:.1f}"


def fmt_cpu(r: dict[str, Any]) -> str:
    return "-" if r.get("server_cpu") is None else f"{100 * r['server_cpu']:.0f}%"


def fmt_round(r: dict[str, Any]) -> str:
    """p99, server CPU and what else ran on the server's core, for a round's progress line."""
    text = f"p99 {r['p99_ms']:.1f} ms  server cpu {100 * r['server_cpu']:.0f}%"
    if r.get("others_cpu") is not None:
        text += f"  others on core {SERVER_CORE}: {100 * r['others_cpu']:.0f}%"
    if r.get("client_cpu") is not None:
        text += f"  client cpu {100 * r['client_cpu']:.0f}%"
    errors = r.get("non2xx", 0) + r.get("socket_errors", 0) + r.get("errors", 0)
    return text + (f"  ERRORS {errors}" if errors else "")


@dataclass
class Row:
    scenario: str
    ours_name: str
    ours: dict[str, Any]
    bare_name: str
    bare: dict[str, Any]
    target: float | None  # ours / bare must be >= target; None: for information

    @property
    def ratio(self) -> float:
        return self.ours["rate"] / self.bare["rate"]

    @property
    def cpu_ratio(self) -> float | None:
        """Ratio of requests per CPU-second of the server process (less sensitive to noise)."""
        if self.ours.get("per_cpu") and self.bare.get("per_cpu"):
            return self.ours["per_cpu"] / self.bare["per_cpu"]
        return None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "MET" if self.ratio >= self.target else "MISSED"


def cpu_us_per_request(result: dict[str, Any]) -> float | None:
    """Server CPU microseconds per request (or message) of a ``median_result``: the inverse of its
    median requests per CPU-second of the server process."""
    per_cpu = result.get("per_cpu")
    return 1e6 / per_cpu if per_cpu else None


def print_table(title: str, headers: Sequence[str], table: Sequence[Sequence[Any]]) -> None:
    """A Markdown table under ``== title``, each column as wide as its widest cell."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *table)]
    print(f"\n== {title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cells in table:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |")


def print_rows(title: str, unit: str, rows: list[Row]) -> None:
    headers = ["scenario", "kuzzle_events", f"{unit}", "p99 ms", "cpu", "baseline", f"{unit}", "p99 ms", "cpu",
               "ratio", "target", "", "per-cpu ratio"]  # fmt: skip
    table = [
        [
            row.scenario,
            row.ours_name,
            fmt_rate(row.ours),
            fmt_p99(row.ours),
            fmt_cpu(row.ours),
            row.bare_name,
            fmt_rate(row.bare),
            fmt_p99(row.bare),
            fmt_cpu(row.bare),
            f"{row.ratio:.3f}x",
            "-" if row.target is None else f">= {row.target:g}x",
            row.verdict,
            "-" if row.cpu_ratio is None else f"{row.cpu_ratio:.3f}x",
        ]  # fmt: skip
        for row in rows
    ]
    print_table(title, headers, table)
    print(
        f"({unit}: median of the rounds; p99 and cpu (server process, 100% = its whole core) of the median round; "
        f"ratio = kuzzle_events {unit} / baseline {unit}; per-cpu ratio = the same with {unit} per CPU-second of "
        "the server process, which other load on the machine disturbs less)"
    )


def print_rounds(rows: list[Row]) -> None:
    seen: set[str] = set()
    for row in rows:
        for name, result in ((row.ours_name, row.ours), (row.bare_name, row.bare)):
            key = f"{row.scenario}/{name}"
            if key in seen:
                continue
            seen.add(key)
            rounds = ", ".join(f"{r:,.0f}" for r in result["rounds"])
            errors = f"; errors {result['errors']}" if result.get("errors") else ""
            others = (
                f"; others on core {SERVER_CORE} up to {100 * result['others_max']:.0f}%"
                if result.get("others_max") is not None
                else ""
            )
            print(f"  {row.scenario} / {name}: rounds {rounds}{errors}{others}")


def print_commands(lines: list[str]) -> None:
    print("\nCommands (run from the repository's root):")
    for line in lines:
        print(f"  {line}")
