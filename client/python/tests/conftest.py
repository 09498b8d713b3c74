# Copyright specinv authors.
#
# Fixtures: real specinv-server processes on free loopback ports. The server
# binary comes from $SPECINV_SERVER (tests/client/CMakeLists.txt passes the
# built one through run_tests.py).

import json
import os
import signal
import subprocess
import threading
import time

import pytest

import specinv


class Server:
    """A specinv-server process; its log is drained in the background."""

    def __init__(self, binary, *extra):
        cmd = [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--http-port", "0",
               "--log-format", "json", "--shutdown-grace-s", "2", *extra]
        if "--workers" not in extra:
            cmd += ["--workers", "2"]
        env = dict(os.environ)
        # Sanitizer builds: leak reports at exit are not this suite's concern.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
        self.port = None
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "start":
                self.port = int(event["port"])
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("specinv-server did not start:\n" + "".join(lines))
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def server_binary():
    binary = os.environ.get("SPECINV_SERVER")
    if not binary or not os.access(binary, os.X_OK):
        raise RuntimeError("set SPECINV_SERVER to the specinv-server binary")
    return binary


@pytest.fixture(scope="session")
def server(server_binary):
    s = Server(server_binary)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def client(server):
    with specinv.Client(server.target, timeout=300) as c:
        yield c


@pytest.fixture(scope="session")
def token_server(server_binary, tmp_path_factory):
    tokens = tmp_path_factory.mktemp("auth") / "tokens"
    tokens.write_text("correct-horse\n")
    s = Server(server_binary, "--auth-token-file", str(tokens), "--allow-insecure-auth")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def busy_server(server_binary):
    """One worker and no queue: a second concurrent job is refused."""
    s = Server(server_binary, "--workers", "1", "--queue-depth", "0")
    yield s
    s.stop()
