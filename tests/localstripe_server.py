"""Runs localstripe, a fake Stripe API server, for tests/test_payments_stripe.py.

localstripe on its own listens on every interface at a fixed port and saves its state to
/tmp/localstripe.pickle, a path it does not let us change, so two runs at once would share it. This wrapper
keeps the state in memory only, listens on a free port on 127.0.0.1, and prints that port as its first line.

    python tests/localstripe_server.py
"""

from __future__ import annotations

import socket

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    resources.Store.dump_to_disk = lambda self: None  # state lives (and dies) with this process
    resources.Store.try_load_from_disk = lambda self: None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)  # requests queue on the socket until the server is ready
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
