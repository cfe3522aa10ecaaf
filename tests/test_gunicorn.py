"""The production server's settings (gunicorn.conf.py), run for real: a large export arrives whole however long it
takes, and one that is cut off is visibly cut off.

Served with gunicorn's default ``sync`` worker, an export that took longer than the worker timeout was killed
part-way, after its client had been sent "200 OK", and the file showed nothing wrong (issue 11). Here the timeout
is one second and the request lasts longer (a large file, a client slow to read it): the repository's ``gthread``
settings send every row, and the ``sync`` worker, shown for contrast, cuts the file off, which the client sees twice
over: the response ends without its closing chunk, and it holds fewer rows than its X-Export-Rows header
announced."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from tests.conftest import make_config
from webapp import api, create_app, routing
from webapp.extensions import db
from webapp.models import Queue, Submission

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
# Some 15 MB of CSV: more than the kernel's socket buffers hold, so a worker sending to a client that has not started
# reading waits in send() until it does, however fast the machine.
ROWS = 60_000
PAUSE = 3  # seconds the client waits before it reads: three times the worker timeout
PATH = "/api/queues/highways/export.csv"


@pytest.fixture(scope="module")
def served_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A migrated SQLite file holding ROWS reports in Highways, and an API key that may export them."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    url = f"sqlite:///{tmp / 'served.sqlite3'}"
    app = create_app(make_config(url, tmp))
    with app.app_context():
        upgrade()
        routing.load_seed()
        highways = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.execute(
            insert(Submission),
            [
                {
                    "reference": f"RP-{number // 10000:04d}-{number % 10000:04d}",
                    "service_slug": "report-a-road-problem",
                    "category": "pothole",
                    "status": "received",
                    "channel": "online",
                    "queue_id": highways.id,
                    "classification": "OFFICIAL",
                    "answers": {"what-is-the-problem": {"category": "pothole"}, "describe-it": {"description": "Deep"}},
                    "description": f"A pothole outside number {number}, about 30 cm across, on the bus route",
                    "street": "Briggate",
                    "street_key": "briggate",
                    "area": "City Centre",
                    "created_at": start + timedelta(seconds=number),
                    "updated_at": start + timedelta(seconds=number),
                }
                for number in range(ROWS)
            ],
        )
        key = api.create_client("Asset system", ("highways",))[1]
        db.session.commit()
        db.engine.dispose()
    return url, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(served_database, tmp_path) -> Iterator:
    """Starts gunicorn on the served database with one worker and a timeout of one second: with the repository's
    gunicorn.conf.py, or with ``config`` (an empty file: gunicorn's own defaults) and any extra arguments. Returns its
    port."""
    started: list[subprocess.Popen] = []

    def start(*arguments: str, config: Path = ROOT / "gunicorn.conf.py", workers: int = 1, **settings: str) -> int:
        port = free_port()
        env = os.environ | {
            "APP_ENV": "development",
            "DATABASE_URL": served_database[0],
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_TIMEOUT": "1",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESSLOG": "",
            **settings,
        }
        command = [str(GUNICORN), "--config", str(config), "--bind", f"127.0.0.1:{port}", *arguments, "wsgi:app"]
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return port
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start within 60 seconds")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def download(port: int, key: str) -> tuple[int, dict[str, str], bytes, bool]:
    """GET the export as a slow back-office system would, reading the body only after PAUSE seconds: (status,
    headers, body received, whether it ended properly). So the request lasts longer than the worker timeout on any
    machine, as a large export does."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.connect()
    # A fixed, small receive buffer (no autotuning), so the server's sends fill it whatever the kernel's settings.
    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    connection.request("GET", PATH, headers={"Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    time.sleep(PAUSE)
    try:
        return response.status, dict(response.getheaders()), response.read(), True
    except http.client.IncompleteRead as cut:
        return response.status, dict(response.getheaders()), cut.partial, False
    finally:
        connection.close()


def test_a_large_export_through_the_production_settings_arrives_whole(gunicorn, served_database):
    port = gunicorn()
    started = time.monotonic()
    status, headers, body, ended = download(port, served_database[1])
    took = time.monotonic() - started
    assert status == 200 and ended
    assert len(body) > 10 * 2**20
    assert headers["X-Export-Rows"] == str(ROWS)
    assert headers["Transfer-Encoding"] == "chunked"
    lines = body.decode().splitlines()
    assert len(lines) == 1 + ROWS
    assert lines[-1].startswith(f"RP-{(ROWS - 1) // 10000:04d}-{(ROWS - 1) % 10000:04d},")
    assert took > 1  # longer than the worker timeout, and not cut off


def listening_sockets(port: int) -> int:
    """How many sockets listen on the port (IPv4, from the kernel's table)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A")


def migrate_req() -> str:
    try:
        return Path("/proc/sys/net/ipv4/tcp_migrate_req").read_text().strip()
    except OSError:
        return "0"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's table of sockets")
@pytest.mark.parametrize(
    ("setting", "sockets"),
    [("1", 2), ("0", 1), ("", 2 if migrate_req() == "1" else 1)],
    ids=["on", "off", f"by the kernel (tcp_migrate_req={migrate_req()})"],
)
def test_each_worker_listens_on_a_socket_of_its_own_where_the_kernel_moves_waiting_connections(
    gunicorn, setting, sockets
):
    """A socket a worker spreads kept-alive connections over the workers: on one shared socket they stayed with
    whichever worker accepted them first, and under load one worker did all the work (bench/journeys.py). But a
    replaced worker's own socket resets the connections waiting on it unless net.ipv4.tcp_migrate_req moves them,
    so by default it follows that setting; GUNICORN_REUSE_PORT decides instead."""
    port = gunicorn(workers=2, GUNICORN_REUSE_PORT=setting)
    deadline = time.monotonic() + 60
    while listening_sockets(port) < sockets and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # both workers booted: one more socket would be there by now
    assert listening_sockets(port) == sockets


def test_with_gunicorns_defaults_the_same_export_is_cut_off_and_the_client_can_tell(
    gunicorn, served_database, tmp_path
):
    """gunicorn's own defaults (the sync worker), as the export was served when it was cut off."""
    defaults = tmp_path / "defaults.conf.py"
    defaults.write_text("")
    port = gunicorn("--timeout", "1", "--no-control-socket", config=defaults)
    status, headers, body, ended = download(port, served_database[1])
    assert status == 200  # sent before the worker was killed
    assert not ended  # no closing chunk
    assert body.count(b"\n") - 1 < int(headers["X-Export-Rows"]) == ROWS
