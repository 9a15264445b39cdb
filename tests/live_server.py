"""A real Svidok served by `svidok serve` (gunicorn) in a subprocess, for tests that
must talk to the running application over HTTP: browser tests and API fuzzing.

The instance is made with the CLI, as a user would: ``init``, an ingest that
creates collection "Field", an administrator, an investigator and an API token.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import make_jpeg, own_database

SVIDOK = [str(Path(sys.executable).with_name("svidok"))]
PASSWORD = "correct horse battery staple 7"


@dataclass(frozen=True)
class LiveSvidok:
    url: str
    home: Path
    env: dict[str, str]
    token: str  # the investigator's API token
    collection: str = "Field"
    admin: str = "root"
    investigator: str = "ivanna"
    password: str = PASSWORD

    def cli(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([*SVIDOK, *args], env=self.env, input=stdin, text=True,
                              capture_output=True, check=True)
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_svidok(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSvidok]:
    base = tmp_path_factory.mktemp("live")
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["SVIDOK_HOME"] = str(base / "home")
    with own_database(env, "svidok_live"):
        yield from _serve(base, env)


def _serve(base: Path, env: dict[str, str]) -> Iterator[LiveSvidok]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    partial = LiveSvidok(url=url, home=base / "home", env=env, token="")
    partial.cli("init")
    photos = base / "photos"
    for seed in range(3):
        make_jpeg(photos / f"street {seed}.jpg", seed, size=(320, 240))
    partial.cli("ingest", str(photos), "--collection", partial.collection,
                "--source-url", "https://example.org/post/1", "--source-person-stdin",
                stdin="Synthetic Witness, +380 00 000 0000\n")
    partial.cli("user", "add", partial.admin, "--admin", "--password-stdin",
                stdin=PASSWORD + "\n")
    partial.cli("user", "add", partial.investigator, "--password-stdin", stdin=PASSWORD + "\n")
    partial.cli("user", "grant", partial.investigator, partial.collection, "investigator")
    token = partial.cli("user", "token", "create", partial.investigator, "--name",
                        "tests").strip()
    live = LiveSvidok(url=url, home=partial.home, env=env, token=token)
    log = open(base / "server.log", "wb")  # noqa: SIM115 — closed below
    server = subprocess.Popen([*SVIDOK, "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        _wait_until_up(url + "/login/", server, base / "server.log")
        yield live
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(base / "photos", ignore_errors=True)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"svidok serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"svidok serve did not answer within 60 s: "
                       f"{log.read_text(errors='replace')[-2000:]}")
