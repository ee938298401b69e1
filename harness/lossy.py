"""A lossy stretch of network on loopback: a UDP forwarder in front of a server (coturn)
that drops a share of the datagrams each way, as a bad Wi-Fi link would. The kernel's netem
is not available in every container; browsers told to send all media through TURN at
this forwarder's port lose real packets, with everything WebRTC does about it (NACKs,
retransmissions, key frame requests)."""

import random
import selectors
import socket
import threading


class LossyUdpForwarder:
    """Forwards datagrams between clients and `target` (host, port); drops each with the
    probability `loss` (0–1, settable while it runs). One upstream socket per client, so
    the server sees each client at its own address."""

    def __init__(self, target, host="127.0.0.1", seed=1):
        self.target = target
        self.loss = 0.0
        self.forwarded = 0
        self.dropped = 0
        self._random = random.Random(seed)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._listener.bind((host, 0))
        self.port = self._listener.getsockname()[1]
        self._upstream = {}  # client address -> socket towards the target
        self._clients = {}  # upstream socket -> client address
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lossy-udp", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        self._thread.join(timeout=5)
        for sock in [self._listener, *self._clients]:
            sock.close()
        self._selector.close()

    def _run(self):
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.1):
                sock = key.fileobj
                try:
                    data, source = sock.recvfrom(65535)
                except OSError:
                    continue  # e.g. an ICMP error from a client that went away
                if sock is self._listener:
                    self._pass(self._towards_target(source), data, self.target)
                else:
                    self._pass(self._listener, data, self._clients[sock])

    def _towards_target(self, client):
        upstream = self._upstream.get(client)
        if upstream is None:
            upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            upstream.bind((self._listener.getsockname()[0], 0))
            self._upstream[client] = upstream
            self._clients[upstream] = client
            self._selector.register(upstream, selectors.EVENT_READ)
        return upstream

    def _pass(self, sock, data, destination):
        if self._random.random() < self.loss:
            self.dropped += 1
            return
        self.forwarded += 1
        try:
            sock.sendto(data, destination)
        except OSError:
            pass  # the other end is gone: as on a real network, the datagram is lost
