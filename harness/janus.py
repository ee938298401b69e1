"""Real Janus for the tests: config/janus with the test's secrets and ports, on loopback or in a
network namespace of the test's own.

Janus offers browsers no loopback ICE candidates, so a test that sends media through it runs
Janus (and later the browsers) in a `NetworkNamespace`: a namespace joined to this one by a veth
pair with addresses in 10.231.0.0/16, and Janus's `ice_enforce_list` set to the veth inside.
Namespaces need root; `NetworkNamespace.available()` says whether this machine can make them.
Each is named after the test process's pid, so one left behind by a killed run is removed by the
next (`sweep_namespaces`).
"""

import ipaddress
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ensemble.sfu.janus import SUBPROTOCOL, WebSocketLink

from .servers import ROOT, ChildProcess, free_port, replace_once

JANUS_CONFIG = ROOT / "config" / "janus"
NAMESPACE_PREFIX = "ensemble-test-"
# Where the veth pairs take their /30s; tests never route anything else here.
VETH_RANGE = ipaddress.ip_network("10.231.0.0/16")


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def namespaces():
    """This machine's named network namespaces."""
    listing = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def veth_interfaces():
    """The host ends of test veth pairs (named `et<pid>n<number>`)."""
    listing = _ip("-o", "link", "show", check=False).stdout
    names = (line.split(":")[1].strip().split("@")[0] for line in listing.splitlines() if ":" in line)
    return [name for name in names if name.startswith("et") and "n" in name[2:] and name[2:].split("n")[0].isdigit()]


def sweep_namespaces():
    """Remove the namespaces and veth ends of test processes that are no longer running."""
    for name in namespaces():
        pid = name.removeprefix(NAMESPACE_PREFIX).split("-")[0]
        if name.startswith(NAMESPACE_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            _ip("netns", "delete", name, check=False)
    for interface in veth_interfaces():
        if not _alive(int(interface[2:].split("n")[0])):
            _ip("link", "delete", interface, check=False)


def _used_networks():
    listing = _ip("-o", "-4", "addr", "show", check=False).stdout
    return [ipaddress.ip_interface(word).network for line in listing.splitlines() for word in line.split() if "/" in word and word[0].isdigit()]


def _free_subnet():
    used = _used_networks()
    for _ in range(200):
        subnet = ipaddress.ip_network((int(VETH_RANGE.network_address) + 4 * secrets.randbelow(VETH_RANGE.num_addresses // 4), 30))
        if not any(subnet.overlaps(network) for network in used):
            return subnet
    raise RuntimeError(f"no free /30 in {VETH_RANGE}")


class NetworkNamespace:
    """A network namespace joined to this one by a veth pair: `host_address` on this side,
    `address` on the inside interface `interface`. `command(argv)` runs argv inside it.
    `with NetworkNamespace() as namespace:` creates it and removes it (and the pair) after."""

    interface = "veth-inside"
    _count = 0

    @staticmethod
    def available():
        return os.geteuid() == 0 and shutil.which("ip") is not None

    def __init__(self):
        NetworkNamespace._count += 1
        number = NetworkNamespace._count
        self.name = f"{NAMESPACE_PREFIX}{os.getpid()}-{number}"
        self.host_interface = f"et{os.getpid()}n{number}"
        self.host_address = self.address = ""

    def create(self):
        sweep_namespaces()
        subnet = _free_subnet()
        host, inside = list(subnet.hosts())
        self.host_address, self.address = str(host), str(inside)
        try:
            _ip("netns", "add", self.name)
            _ip("link", "add", self.host_interface, "type", "veth", "peer", "name", self.interface, "netns", self.name)
            _ip("addr", "add", f"{host}/30", "dev", self.host_interface)
            # No IPv6 link-local address: the kernel would add it a second or two after the link
            # comes up, and Chromium aborts every request in flight on such a change
            # (ERR_NETWORK_CHANGED): a page loading then misses its modules.
            _ip("link", "set", self.host_interface, "addrgenmode", "none")
            _ip("link", "set", self.host_interface, "up")
            _ip("-n", self.name, "addr", "add", f"{inside}/30", "dev", self.interface)
            _ip("-n", self.name, "link", "set", self.interface, "up")
            _ip("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.delete()
            raise
        return self

    def command(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def delete(self):
        """Remove the namespace and both veth ends (the processes inside must have ended)."""
        _ip("netns", "delete", self.name, check=False)
        _ip("link", "delete", self.host_interface, check=False)

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()


@dataclass(frozen=True)
class JanusSecrets:
    token: str
    api: str
    admin: str
    admin_key: str

    @classmethod
    def random(cls):
        return cls(*(secrets.token_urlsafe(24) for _ in range(4)))


def no_core_dumps():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class JanusProcess(ChildProcess):
    """Debian's janus run from config/janus with the test's secrets, on loopback (free ports) or in
    `namespace` (its standard ports there, reached at the namespace's address). `url` is its Janus
    API (ws://), `admin_url` its Admin API."""

    name = "janus"

    def __init__(self, folder, namespace=None, janus_secrets=None):
        self.folder = Path(folder) / f"janus-{secrets.token_hex(3)}"
        self.folder.mkdir(parents=True)
        self.namespace = namespace
        self.secrets = janus_secrets or JanusSecrets.random()
        self.host = namespace.address if namespace else "127.0.0.1"
        self.port, self.admin_port = (8188, 7188) if namespace else (free_port(), free_port())
        self.url = f"ws://{self.host}:{self.port}"
        self.admin_url = f"ws://{self.host}:{self.admin_port}"
        self.log_path = self.folder / "janus.log"

    def start(self, timeout=15, **popen):
        # A Janus killed by a test may crash on its way down: no core file in the checkout (180 MB each).
        return super().start(timeout, preexec_fn=no_core_dumps, **popen)

    def command(self):
        self._write_config()
        argv = ["janus", "-F", str(self.folder), "--disable-colors", "--debug-level=4", "--debug-timestamps"]
        return self.namespace.command(argv) if self.namespace else argv

    def _write_config(self):
        placeholders = "replace-with-a-long-random-string"
        core = {
            f'token_auth_secret = "{placeholders}-token"': f'token_auth_secret = "{self.secrets.token}"',
            f'api_secret = "{placeholders}-api"': f'api_secret = "{self.secrets.api}"',
            f'admin_secret = "{placeholders}-admin"': f'admin_secret = "{self.secrets.admin}"',
            'ice_enforce_list = "eth0"': f'ice_enforce_list = "{self.namespace.interface if self.namespace else "lo"}"',
        }
        transport = {
            'ws_port = 8188': f"ws_port = {self.port}",
            '\tws_ip = "127.0.0.1"': f'\tws_ip = "{self.host}"',
            'admin_ws_port = 7188': f"admin_ws_port = {self.admin_port}",
        }
        videoroom = {f'admin_key = "{placeholders}-admin-key"': f'admin_key = "{self.secrets.admin_key}"'}
        for name, swaps in (("janus.jcfg", core), ("janus.transport.websockets.jcfg", transport), ("janus.plugin.videoroom.jcfg", videoroom)):
            source = JANUS_CONFIG / name
            (self.folder / name).write_text(replace_once(source.read_text(), swaps, source))

    def answers(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False


class JanusRefused(RuntimeError):
    def __init__(self, step, code, reason):
        super().__init__(f"{step}: {code} {reason}")
        self.step, self.code, self.reason = step, code, reason


class JanusParticipant:
    """What a page does on Janus's API with the tokens the server gave it, without media: a session
    (core token), the VideoRoom attached, and a join as publisher (room token, its feed id).
    JanusRefused says which step Janus refused, with Janus's code."""

    def __init__(self, url, timeout=5.0):
        self._timeout = timeout
        self._link = WebSocketLink(url, SUBPROTOCOL, timeout)
        self.events = []

    def join(self, core_token, room, room_token, feed=None, display=""):
        session = self._request("create", {"janus": "create", "token": core_token})["data"]["id"]
        self.session = session
        handle = self._request("attach", {"janus": "attach", "session_id": session, "plugin": "janus.plugin.videoroom", "token": core_token})
        self.handle = handle["data"]["id"]
        body = {"request": "join", "ptype": "publisher", "room": room, "token": room_token, "display": display}
        if feed is not None:
            body["id"] = feed
        reply = self._request("join", {"janus": "message", "session_id": session, "handle_id": self.handle, "token": core_token, "body": body})
        data = reply["plugindata"]["data"]
        if "error_code" in data:
            raise JanusRefused("join", data["error_code"], data.get("error", ""))
        return data

    def next_event(self, timeout=5.0):
        """The next message Janus pushes (events, hangups, detaches), or JanusUnreachable."""
        return json.loads(self._link.receive(time.monotonic() + timeout))

    def close(self):
        self._link.close()

    def _request(self, step, message):
        transaction = secrets.token_hex(6)
        self._link.send(json.dumps({**message, "transaction": transaction}))
        deadline = time.monotonic() + self._timeout
        while True:
            reply = json.loads(self._link.receive(deadline))
            if reply.get("transaction") != transaction:
                self.events.append(reply)
            elif reply.get("janus") != "ack":
                break
        if reply.get("janus") == "error":
            raise JanusRefused(step, reply["error"]["code"], reply["error"]["reason"])
        return reply
