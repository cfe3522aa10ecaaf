"""For benchmarks: an app served by gunicorn with the repository's gunicorn.conf.py, on a free port, until stopped."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sockets_note() -> str:
    """How gunicorn.conf.py will listen on this machine: its own reuse_port, read from the file (which follows
    net.ipv4.tcp_migrate_req unless GUNICORN_REUSE_PORT says)."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    moves = "1" if settings["_kernel_moves_waiting_connections"]() else "0"
    listening = "a socket a worker" if settings["reuse_port"] else "one shared socket"
    return f"{listening} (net.ipv4.tcp_migrate_req={moves})"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """``app`` (a gunicorn app spec, such as "wsgi:app") under gunicorn.conf.py with ``workers`` workers and the
    environment ``env``, no access log; ready once it accepts connections."""

    def __init__(self, app: str, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log")
        settings = {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESSLOG": "",
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), app], cwd=ROOT, env=os.environ | env | settings, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{app} did not start: " + Path(self.log.name).read_text()[-2000:])

    def worker_peak_mb(self) -> float | None:
        """The first worker's peak resident memory (VmHWM), from /proc."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
