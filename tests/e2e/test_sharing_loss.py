"""Shared analysis over a lossy network: all media goes through a real coturn behind a
forwarder that drops datagrams (harness/lossy.py). With some packets lost, video and shared
masks keep coming, and no trailer arrives damaged (a frame that lost a packet is never
decoded half); in an outage the stream falls back to local analysis, and takes the shared
results again once packets flow."""

import pytest

from harness.browsers import chromium_flags, make_photo_camera
from harness.lossy import LossyUdpForwarder
from harness.servers import CoturnProcess, ServerProcess
from tests.e2e.helpers import peer_ids, room_url, start_frame_count, wait_connected, wait_frames, wait_source


@pytest.fixture
def lossy_relay(tmp_path):
    """A server sending all media through coturn, reached through a lossy forwarder."""
    with CoturnProcess(tmp_path) as coturn, LossyUdpForwarder(("127.0.0.1", coturn.port)) as forwarder:
        settings = {"turn_urls": f"turn:127.0.0.1:{forwarder.port}?transport=udp", "turn_secret": coturn.secret, "ice_transport_policy": "relay"}
        with ServerProcess(tmp_path, **settings) as server:
            yield server, forwarder


def counters(page, peer_id):
    """What the viewer has of the sender's stream so far."""
    return page.evaluate(
        """async id => { const c = await window.ensemble.connection(id), a = window.ensemble.analysis(id), s = window.ensemble.sharing();
            return { decoded: c.framesDecoded, keyFramesAsked: c.keyFramesAsked, masks: a.results.mask ?? 0,
                     source: a.source, packets: s.received.packets, damaged: s.received.damaged }; }""",
        peer_id,
    )


def wait_masks(page, peer_id, count, timeout=30_000):
    """Until `count` more masks of the stream were used."""
    page.wait_for_function(
        "([id, n]) => window.ensemble.analysis(id).results.mask >= n", arg=[peer_id, counters(page, peer_id)["masks"] + count], timeout=timeout
    )


def test_lost_packets_cost_frames_not_the_shared_masks_and_an_outage_falls_back_and_comes_back(lossy_relay, chromium, tmp_path):
    server, forwarder = lossy_relay
    pages = {}
    for name, camera in (("Sender", "on"), ("Viewer", "off")):
        browser = chromium(chromium_flags(make_photo_camera(tmp_path, "sample1-left")))
        pages[name] = browser.new_page(viewport={"width": 1280, "height": 800})
        pages[name].goto(room_url(server, "lossy", name, analysis="on", camera=camera))
    sender, viewer = pages["Sender"], pages["Viewer"]
    try:
        for page in pages.values():
            wait_connected(page, 1, timeout=30_000)
        sender_id = peer_ids(viewer)["Sender"]
        wait_source(viewer, sender_id, "sender")
        start_frame_count(viewer)

        # One datagram in ten lost each way (about one in five end to end): frames and masks keep coming.
        forwarder.loss = 0.1
        before = counters(viewer, sender_id)
        wait_frames(viewer, 30)
        wait_masks(viewer, sender_id, 20)
        lossy = counters(viewer, sender_id)
        assert forwarder.dropped > 50, (forwarder.dropped, forwarder.forwarded)
        # Every trailer that arrived was whole: a frame missing a packet is never handed on half.
        assert lossy["packets"] > before["packets"] and lossy["damaged"] == 0, (before, lossy)
        # Shared results stay in use through the loss (on a loaded machine they may lapse for a
        # moment, which the picker answers by analysing here until they come back).
        wait_source(viewer, sender_id, "sender", timeout=30_000)

        # An outage: nothing gets through. The stream's results are this page's own again.
        forwarder.loss = 1.0
        wait_source(viewer, sender_id, "local", timeout=10_000)

        # Packets flow again: the video plays on, the shared masks come back and are used.
        forwarder.loss = 0.0
        wait_source(viewer, sender_id, "sender", timeout=30_000)
        start_frame_count(viewer)
        wait_frames(viewer, 20)
        wait_masks(viewer, sender_id, 10)
        wait_source(viewer, sender_id, "sender", timeout=30_000)
        after = counters(viewer, sender_id)
        assert after["damaged"] == 0, after
        assert sender.evaluate("() => window.ensemble.sharing().active")
    finally:
        for page in pages.values():
            page.context.browser.close()
