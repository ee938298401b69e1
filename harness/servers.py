"""Start the real server (`python server.py`) and a real coturn on free loopback ports."""

import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(host="127.0.0.1"):
    """A port free for both TCP and UDP that no outgoing connection will take meanwhile.

    A test often picks a port now and starts the program that listens on it later (coturn
    binds UDP and TCP on its one port). A port the kernel picks (`bind(0)`) comes from the
    ephemeral range, from which every browser's connection and ICE socket also takes its own,
    and one did take coturn's in a CI run. So the port comes from below that range."""
    first_ephemeral = ephemeral_ports()[0]
    for _ in range(200):
        port = 10_000 + secrets.randbelow(first_ephemeral - 10_000)
        if all(can_bind(host, port, kind) for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM)):
            return port
    raise RuntimeError(f"no free port between 10000 and {first_ephemeral} on {host}")


def ephemeral_ports():
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def can_bind(host, port, kind):
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


class ChildProcess:
    """A program the tests start: started until it answers, stopped, its output kept in `log_path`.
    A subclass sets `name` and `log_path` and gives `command()` and `answers()`."""

    name = ""
    log_path: Path
    stop_seconds = 5
    _process = None

    @property
    def pid(self):
        return self._process.pid

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
        self.kill()  # a `with` block that failed to start never reaches its exit
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log()}")

    def stop(self):
        """SIGTERM, then SIGKILL if it has not ended after `stop_seconds`."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.kill()

    def pause(self):
        """SIGSTOP: it holds its sockets but does nothing, as a stalled machine."""
        self._process.send_signal(signal.SIGSTOP)

    def resume(self):
        self._process.send_signal(signal.SIGCONT)

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


# Every client of a test comes from 127.0.0.1: the per-address limits would count a whole
# test suite as one person (a page's wrong password would make the next page wait, pages
# renewing short-lived TURN credentials would share one allowance). Tests of those limits
# (and bench/signaling.py's row with the limits at their defaults) give their own values,
# which win over these.
LOOPBACK_LIMITS = {
    "connections_per_ip": 100_000, "joins_per_ip_per_minute": 100_000, "uploads_per_ip_per_minute": 100_000,
    "wrong_password_delay_seconds": 0, "turn_credentials_per_ip_per_minute": 100_000,
}


class ServerProcess(ChildProcess):
    """`python server.py` in a child process; its log is kept for inspection. The per-address
    limits are `limits` (LOOPBACK_LIMITS) unless `settings` say otherwise. Benchmarks run
    another checkout (`root`), another interpreter (`python`) or another script of the same
    settings (`script`, relative to `root`); such a child gets no PYTHONPATH of ours."""

    name = "server"

    def __init__(
        self, log_dir, async_mode="gevent", port=None, *, root=ROOT, python=sys.executable, script="server.py",
        limits=LOOPBACK_LIMITS, **settings,
    ):
        settings = {**limits, **settings}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"{Path(script).stem}-{async_mode}-{self.port}.log"
        self._root = Path(root)
        self._command = [str(python), str(self._root / script)]
        self._env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ASYNC_MODE": async_mode,
            "PYTHONUNBUFFERED": "1",
            **{key.upper(): str(value) for key, value in settings.items()},
        }
        if self._command != [sys.executable, str(ROOT / "server.py")]:
            self._env.pop("PYTHONPATH", None)

    def command(self):
        return self._command

    def start(self, timeout=15):
        return super().start(timeout, cwd=self._root, env=self._env)

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
        self.port = port or free_port()
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


# --- The production recipe of docs/deployment.md, on loopback ------------------------------

NGINX = "/usr/sbin/nginx"
NGINX_SITE = ROOT / "config" / "nginx" / "ensemble.conf"


class GunicornProcess(ServerProcess):
    """The production command, `.venv/bin/gunicorn -c config/gunicorn.conf.py`, with
    settings as for ServerProcess (gunicorn's worker is gevent)."""

    name = "gunicorn"

    def __init__(self, log_dir, port=None, **settings):
        super().__init__(log_dir, "gevent", port, **settings)
        self.log_path = Path(log_dir) / f"gunicorn-{self.port}.log"

    def command(self):
        return [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.conf.py")]

    # Stopped with SIGTERM, as systemd stops it: open websockets hold it for its graceful_timeout (5 s).
    stop_seconds = 15


def self_signed_certificate(folder, host="127.0.0.1"):
    """(certificate, key) for `host`, made by openssl, valid for a day."""
    certificate, key = Path(folder) / "certificate.pem", Path(folder) / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    return certificate, key


def replace_once(text, swaps, source):
    """`text` with each key of `swaps` replaced by its value; each must occur exactly once,
    so a changed shipped file fails here instead of being run half-swapped."""
    for shipped, local in swaps.items():
        count = text.count(shipped)
        assert count == 1, f"{shipped!r} occurs {count} times in {source}: the tests' replacements need updating"
        text = text.replace(shipped, local)
    return text


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def loopback_site(path, https_port, http_port, backends, certificate, key, webroot, broadcasts):
    """config/nginx/ensemble.conf written to `path` with its deployment values (ports,
    processes, certificate, ACME folder) swapped for the test's; every other line as shipped."""
    ipv6 = ipv6_loopback()
    servers = [f"server 127.0.0.1:{port};" for port in backends]

    def listen(port, options=""):
        return f"listen [::1]:{port}{options};" if ipv6 else f"# listen [::]:{port}{options}; (no IPv6 loopback here)"

    swaps = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": listen(http_port),
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": listen(https_port, " ssl http2"),
        "return 301 https://$host$request_uri;": f"return 301 https://$host:{https_port}$request_uri;",
        "least_conn;\n    server 127.0.0.1:5001;\n    server 127.0.0.1:5002;": "\n    ".join(["least_conn;", *servers]),
        "consistent;\n    server 127.0.0.1:5001;\n    server 127.0.0.1:5002;": "\n    ".join(["consistent;", *servers]),
        "/srv/ensemble/var/broadcasts/live/": f"{broadcasts}/live/",
        "/etc/letsencrypt/live/ensemble.example.org/fullchain.pem": str(certificate),
        "/etc/letsencrypt/live/ensemble.example.org/privkey.pem": str(key),
        "root /var/www/html;": f"root {webroot};",
    }
    Path(path).write_text(replace_once(NGINX_SITE.read_text(), swaps, NGINX_SITE))
    return Path(path)


class NginxProcess(ChildProcess):
    """Debian's nginx serving one site file from a folder of its own (pid, temporary files,
    log): the part of Debian's /etc/nginx/nginx.conf that the site needs."""

    name = "nginx"

    def __init__(self, folder, site, http_port):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / "nginx.log"
        self._site = Path(site)
        self._http_port = http_port

    def command(self):
        temporary = "\n".join(
            f"    {kind}_temp_path {self.folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main = self.folder / "nginx.conf"
        main.write_text(
            # As root, nginx would run its workers as `nobody`, who may not enter the test's folders.
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\npid {self.folder / 'nginx.pid'};\nerror_log stderr notice;\n"
            + "events {\n    worker_connections 256;\n}\n"
            + "http {\n    log_format upstream '$msec $request $status upstream=$upstream_addr';\n"
            + f"    access_log {self.folder / 'access.log'} upstream;\n{temporary}\n    include {self._site};\n}}\n"
        )
        return [NGINX, "-p", str(self.folder), "-c", str(main), "-e", "stderr", "-g", "daemon off;"]

    def answers(self):
        """Its plain-HTTP server answers (with a redirect)."""
        try:
            with socket.create_connection(("127.0.0.1", self._http_port), timeout=1) as link:
                link.sendall(b"HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return link.recv(16).startswith(b"HTTP/1.1 ")
        except OSError:
            return False


class Deployment:
    """docs/deployment.md on loopback: a Redis, `processes` gunicorn processes sharing it,
    and nginx with the shipped site file in front of them over TLS, with a certificate made
    for 127.0.0.1 (`certificate`, for clients to trust). `url` is the site's https address."""

    def __init__(self, folder, processes=2, **settings):
        self.folder = Path(folder)
        self.redis = RedisProcess(self.folder)
        # nginx is the one proxy in front of the processes (docs/deployment.md's .env).
        settings = {"upload_folder": self.folder / "uploads", "broadcast_folder": self.folder / "broadcasts", "trusted_proxy_hops": 1, **settings}
        self.servers = [GunicornProcess(self.folder, redis_url=self.redis.url, **settings) for _ in range(processes)]
        self.certificate, key = self_signed_certificate(self.folder)
        self.webroot = self.folder / "webroot"
        self.webroot.mkdir(exist_ok=True)
        https_port, http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{https_port}"
        self.http_url = f"http://127.0.0.1:{http_port}"
        site = loopback_site(
            self.folder / "ensemble.conf", https_port, http_port, [server.port for server in self.servers],
            self.certificate, key, self.webroot, settings["broadcast_folder"],
        )
        self.nginx = NginxProcess(self.folder / "nginx", site, http_port)

    def start(self):
        try:
            self.redis.start()
            for server in self.servers:
                server.start()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self.nginx.stop()
        for server in self.servers:
            server.stop()
        self.redis.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


TURNSERVER_CONF = ROOT / "config" / "turnserver.conf"


class ShippedCoturnProcess(CoturnProcess):
    """Debian's coturn run from config/turnserver.conf with its deployment values (ports,
    secret, certificate, syslog) swapped for the test's, on loopback: `port` for UDP and
    TCP, `tls_port` for turns:."""

    def __init__(self, log_dir, certificate, key, secret="coturn-test-secret"):
        super().__init__(log_dir, secret)
        self.tls_port = free_port()
        self.certificate, self._key = certificate, key

    def command(self):
        swaps = {
            "listening-port=3478": f"listening-port={self.port}",
            "tls-listening-port=5349": f"tls-listening-port={self.tls_port}",
            "static-auth-secret=replace-with-a-long-random-string": f"static-auth-secret={self.secret}",
            "/etc/coturn/certs/turn.example.org.fullchain.pem": str(self.certificate),
            "/etc/coturn/certs/turn.example.org.privkey.pem": str(self._key),
            "\nsyslog\n": "\nlog-file=stdout\nsimple-log\n",
        }
        loopback = [
            "listening-ip=127.0.0.1", "relay-ip=127.0.0.1",
            f"userdb={self.log_path.with_suffix('.db')}", f"pidfile={self.log_path.with_suffix('.pid')}",
        ]
        conf = self.log_path.with_suffix(".conf")
        conf.write_text(replace_once(TURNSERVER_CONF.read_text(), swaps, TURNSERVER_CONF) + "\n".join(loopback) + "\n")
        return ["turnserver", "-c", str(conf)]
