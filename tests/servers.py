"""Start the real server (`python server.py`) and a real coturn on free loopback ports."""

import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(host="127.0.0.1", kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class ChildProcess:
    """A program the tests start: started until it answers, stopped, its output kept in `log_path`.
    A subclass sets `name` and `log_path` and gives `command()` and `answers()`."""

    name = ""
    log_path: Path
    _process = None

    def command(self):
        raise NotImplementedError

    def answers(self):
        raise NotImplementedError

    def start(self, timeout=15, **popen):
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the handle
            self._process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, **popen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.log()}")
            if self.answers():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log()}")

    def stop(self):
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def kill(self):
        """SIGKILL: gone at once, as when its machine fails; nothing of it runs to clean up."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ServerProcess(ChildProcess):
    """`python server.py` in a child process; its log is kept for inspection."""

    name = "server"

    def __init__(self, log_dir, async_mode="gevent", port=None, **settings):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"server-{async_mode}-{self.port}.log"
        self._env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ASYNC_MODE": async_mode,
            "PYTHONUNBUFFERED": "1",
            **{key.upper(): str(value) for key, value in settings.items()},
        }

    def command(self):
        return [sys.executable, str(ROOT / "server.py")]

    def start(self, timeout=15):
        return super().start(timeout, cwd=ROOT, env=self._env)

    def answers(self):
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def restart(self):
        self.stop()
        return self.start()


class CoturnProcess(ChildProcess):
    """Debian's coturn (`turnserver`) on a free loopback port, checking credentials made
    from a shared secret as ours are (`use-auth-secret`), relaying between loopback peers."""

    name = "turnserver"

    def __init__(self, log_dir, secret="coturn-test-secret", port=None):
        self.secret = secret
        self.port = port or free_port(kind=socket.SOCK_DGRAM)
        self.url = f"turn:127.0.0.1:{self.port}?transport=udp"
        self.log_path = Path(log_dir) / f"coturn-{self.port}.log"

    def command(self):
        return [
            "turnserver",
            "-n",  # no configuration file: this machine's /etc/turnserver.conf plays no part
            # plain UDP/TCP on loopback, relaying to loopback peers (the browsers here)
            "--listening-ip=127.0.0.1", f"--listening-port={self.port}", "--relay-ip=127.0.0.1",
            "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--fingerprint",
            # the TURN REST credentials our server hands out
            "--use-auth-secret", f"--static-auth-secret={self.secret}", "--realm=ensemble.test",
            # its files in the test's folder, its log where `log()` reads it
            f"--db={self.log_path.with_suffix('.db')}", f"--pidfile={self.log_path.with_suffix('.pid')}",
            "--log-file=stdout", "--simple-log", "--verbose",
        ]

    def answers(self):
        return stun_answers("127.0.0.1", self.port)


def stun_answers(host, port, timeout=0.3):
    """Whether a STUN Binding request to host:port gets a Binding success response (RFC 5389)."""
    transaction = secrets.token_bytes(12)
    request = (0x0001).to_bytes(2, "big") + (0).to_bytes(2, "big") + (0x2112A442).to_bytes(4, "big") + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(timeout)
        probe.sendto(request, (host, port))
        try:
            answer = probe.recv(2048)
        except OSError:
            return False
    return answer[:2] == (0x0101).to_bytes(2, "big") and answer[8:20] == transaction


class RedisProcess(ChildProcess):
    """Debian's redis-server on a free loopback port, without persistence (a restart starts
    empty, as a Redis without a disk does) unless `persist` (an append-only file). With
    `tls`, it speaks TLS only, with a certificate made for the test (a `rediss://` URL)."""

    name = "redis-server"

    def __init__(self, log_dir, port=None, persist=False, tls=False):
        self.persist = persist
        self.port = port or free_port()
        self.log_path = Path(log_dir) / f"redis-{self.port}.log"
        self._dir = Path(log_dir)
        self._certificate = self._dir / f"redis-{self.port}.pem"
        self.tls = tls
        if tls:
            self._key = self._dir / f"redis-{self.port}.key"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self._key), "-out", str(self._certificate)],
                check=True, capture_output=True,
            )
            self.url = f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self._certificate}"
        else:
            self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        listen = ["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)]
        certificates = (
            ["--tls-cert-file", str(self._certificate), "--tls-key-file", str(self._key), "--tls-ca-cert-file",
             str(self._certificate), "--tls-auth-clients", "no"]
            if self.tls else []
        )
        return [
            "redis-server", "--bind", "127.0.0.1", *listen, *certificates,
            "--save", "", "--appendonly", "yes" if self.persist else "no", "--dir", str(self._dir),
            "--protected-mode", "yes",
        ]

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as plain:
                link = plain
                if self.tls:
                    link = ssl.create_default_context(cafile=self._certificate).wrap_socket(plain, server_hostname="127.0.0.1")
                link.sendall(b"PING\r\n")
                return link.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def restart(self):
        self.stop()
        return self.start()
