"""Janus behind the shipped nginx site (config/nginx/ensemble.conf): `wss://…/janus` reaches
Janus's WebSocket API, which still asks for the server's signed tokens."""

import json
import ssl
import time

import pytest
import websocket

from ensemble.sfu.tokens import member_tokens
from harness.janus import JanusProcess
from harness.servers import NginxProcess, free_port, loopback_site, replace_once, self_signed_certificate

SHIPPED_JANUS = "proxy_pass http://127.0.0.1:8188;"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx-janus")
    with JanusProcess(folder) as janus:
        certificate, key = self_signed_certificate(folder)
        https_port, http_port = free_port(), free_port()
        path = loopback_site(folder / "ensemble.conf", https_port, http_port, [free_port()], certificate, key, folder, folder / "broadcasts")
        path.write_text(replace_once(path.read_text(), {SHIPPED_JANUS: f"proxy_pass http://127.0.0.1:{janus.port};"}, path))
        with NginxProcess(folder / "nginx", path, http_port):
            yield {"url": f"wss://127.0.0.1:{https_port}/janus", "certificate": str(certificate), "janus": janus}


def ask(site, message):
    link = websocket.create_connection(
        site["url"], subprotocols=["janus-protocol"], sslopt={"ca_certs": site["certificate"], "cert_reqs": ssl.CERT_REQUIRED}, timeout=5
    )
    try:
        link.send(json.dumps({**message, "transaction": "t1"}))
        return json.loads(link.recv())
    finally:
        link.close()


def test_janus_answers_through_nginx_with_its_own_subprotocol(site):
    link = websocket.create_connection(
        site["url"], subprotocols=["janus-protocol"], sslopt={"ca_certs": site["certificate"], "cert_reqs": ssl.CERT_REQUIRED}, timeout=5
    )
    assert link.subprotocol == "janus-protocol"
    link.close()
    assert ask(site, {"janus": "info"})["janus"] == "server_info"


def test_through_nginx_a_session_still_needs_a_signed_token(site):
    assert ask(site, {"janus": "create"})["error"]["code"] == 403
    tokens = member_tokens(site["janus"].secrets.token, 1234, time.time(), 60)
    assert ask(site, {"janus": "create", "token": tokens.core})["janus"] == "success"
