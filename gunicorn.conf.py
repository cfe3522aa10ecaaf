"""The production server's settings: gunicorn reads this file from the working directory (``gunicorn wsgi:app``),
and ``make serve`` uses it (README.md, "Running it in production"). Each setting can be changed
by the environment variable beside it, so one file serves every machine.

Workers are ``gthread``: each process serves several requests at once on threads, and its main thread keeps the
heartbeat going whatever a request is doing. So ``timeout`` restarts a worker that has hung, not one streaming a
large export: with the default ``sync`` worker, gunicorn kills any request that takes longer than ``timeout``, and a
streamed export was cut off at 30 seconds after its client had been sent "200 OK" (issue 11). An export announces
its row count in X-Export-Rows and a cut-off response ends without its closing chunk, so a client can always tell
a whole file from a part of one (docs/exports.md); tests/test_gunicorn.py checks both through this file."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# A process a core is enough: the threads wait on the database and the network, not on Python.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
# Within SQLAlchemy's default pool (5 connections and 10 more a process), so a thread never waits for a connection.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker that has not checked in for this long is hung and is restarted; a long request is not "hung".
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# How long an idle connection is kept for the next request. Behind a load balancer this must be longer than the
# balancer's idle timeout (often 60 seconds), so the balancer closes a connection first and never sends a request
# down one gunicorn has just closed (a 502). gthread keeps idle connections in its poller, not on a thread.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))


def _kernel_moves_waiting_connections() -> bool:
    """net.ipv4.tcp_migrate_req (Linux 5.14 and later): connections waiting on a socket that closes move to another
    socket of the same port instead of being reset."""
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as setting:
            return setting.read().strip() == "1"
    except OSError:
        return False


# Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel shares new connections among them. On
# one shared socket, connections went to whichever worker accepted first and, kept alive, stayed there: with 50
# residents' connections opened at once, one worker served nearly all of them at 100% of a core while the other
# idled (bench/journeys.py: 5.0 reports a second on one socket, 8.8 on a socket a worker). But a worker's own socket
# closes when max_requests replaces the worker, and the connections waiting on it are reset (a resident's POST
# would get an error) unless the kernel moves them: so it is on by default only where net.ipv4.tcp_migrate_req=1
# (README.md, "Running it in production"). GUNICORN_REUSE_PORT=1 or 0 decides instead.
reuse_port = {"1": True, "0": False}.get(os.environ.get("GUNICORN_REUSE_PORT", ""), _kernel_moves_waiting_connections())

# A process is replaced after this many requests (at a random point within the jitter, so not all at once), which
# bounds what any leak could grow to. Not too often: a new process compiles every template again on its first
# requests, and at 5,000 a busy worker was replaced every few seconds (bench/server_pages.py: the constant page
# served 2,410 requests a second against 3,941 at 50,000).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "5000"))
# The proxy's X-Forwarded-* headers are read by the app (TRUSTED_PROXIES, werkzeug's ProxyFix), not by gunicorn.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# gunicorn's control socket (for gunicornc) is at one path per user unless named, so two servers on one machine
# would share it: it is on only where GUNICORN_CONTROL_SOCKET gives a path of its own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
