"""A moto server in this process (ThreadedMotoServer), which other processes reach over HTTP: the
operator CLI as a subprocess, and the Lambda containers of `sam local invoke`.

The server shares this process with the test, so the emulation seams (Lambda tasks routed to our
in-process handlers, skipped waits, ECS tasks and rollouts) act on it, and the state machine's
executions really run in its interpreter.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ecs_migrate_deploy.emulation.engine import MOTO_CONFIG


def post(url: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=10):
        pass


@dataclass(frozen=True)
class MotoServer:
    url: str


@contextmanager
def running_moto_server() -> Iterator[MotoServer]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)  # the SFN interpreter's own Lambda client calls localhost:MOTO_PORT
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    post(f"{url}/moto-api/config", dict(MOTO_CONFIG))
    try:
        yield MotoServer(url)
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = saved
