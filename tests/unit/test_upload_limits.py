"""Who may upload, how often, how much the folder keeps, how large a picture may be decoded,
and that a failed write leaves nothing behind."""

import io
import os
import random
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from ensemble import create_app
from ensemble.guard import SWEEP_EVERY, Guard
from ensemble.uploads import ImageStore
from tests.conftest import make_settings
from tests.unit.test_scenes import member_of, picture, upload


def noise(size, seed):
    """A PNG that compresses badly, different for each seed."""
    image = Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def code_of(response, status):
    assert response.status_code == status, (response.status_code, response.data[:300])
    body = response.get_json()
    assert body["ok"] is False and set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


@pytest.fixture
def app_with(tmp_path):
    return lambda **settings: create_app(make_settings(upload_folder=str(tmp_path / "uploads"), **settings))


# --- membership ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "someone:something", "x" * 100, ":"])
def test_only_a_member_may_upload(app, settings, header):
    headers = {} if header is None else {"X-Ensemble-Member": header}
    assert code_of(upload(app, picture("PNG"), headers=headers), 403) == "not_joined"
    assert not settings.upload_path.exists()


def test_a_member_that_left_may_upload_no_more(app):
    client = app.extensions["socketio"].test_client(app)
    reply = client.emit("join", {"room": "r", "name": "A"}, callback=True)
    headers = {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}
    assert upload(app, picture("PNG"), headers=headers).status_code == 201
    client.emit("leave", {}, callback=True)
    assert code_of(upload(app, picture("PNG"), headers=headers), 403) == "not_joined"
    wrong = {"X-Ensemble-Member": f"{reply['id']}:{reply['token'][::-1]}"}
    assert code_of(upload(app, picture("PNG"), headers=wrong), 403) == "not_joined"


# --- rates ----------------------------------------------------------------------------------


def test_uploads_per_member_are_limited(app_with):
    app = app_with(uploads_per_minute=2)
    member, other = member_of(app, name="A"), member_of(app, name="B")
    for _ in range(2):
        assert upload(app, picture("PNG"), headers=member).status_code == 201
    assert code_of(upload(app, picture("PNG"), headers=member), 429) == "rate_limited"
    assert upload(app, picture("PNG"), headers=other).status_code == 201


def test_uploads_per_address_are_limited_whoever_the_member(app_with):
    app = app_with(uploads_per_ip_per_minute=3)
    for number in range(3):
        assert upload(app, picture("PNG"), headers=member_of(app, name=f"p{number}")).status_code == 201
    assert code_of(upload(app, picture("PNG"), headers=member_of(app, name="late")), 429) == "rate_limited"


def test_behind_a_trusted_proxy_uploads_count_per_forwarded_address(app_with):
    app = app_with(uploads_per_ip_per_minute=1, trusted_proxy_hops=1)

    def post(address):
        return app.test_client().post(
            "/api/backgrounds", data={"image": (io.BytesIO(picture("PNG")), "bg.png")}, content_type="multipart/form-data",
            headers={**member_of(app, name=address), "X-Forwarded-For": address},
        )

    assert post("203.0.113.1").status_code == 201
    assert code_of(post("203.0.113.1"), 429) == "rate_limited"
    assert post("203.0.113.2").status_code == 201


# --- the folder's quota -----------------------------------------------------------------------


def test_past_the_quota_the_pictures_used_longest_ago_are_removed(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, quota_bytes=1 << 20)
    pictures = [noise((300, 300), seed) for seed in range(5)]
    assert all(200_000 < len(data) < 300_000 for data in pictures)
    stored = []
    for age, data in enumerate(pictures[:3]):
        stored.append(store.store(data))
        os.utime(tmp_path / stored[-1].name, (1_000_000 + age, 1_000_000 + age))  # stored long ago, in this order
    store.touch(store.path(stored[0].name))  # the oldest was just shown to someone
    stored.append(store.store(pictures[3]))
    stored.append(store.store(pictures[4]))
    # Five of about 270 KB do not fit 1 MiB: the two used longest ago (1, then 2) went.
    assert {path.name for path in tmp_path.iterdir()} == {stored[0].name, stored[3].name, stored[4].name}
    assert sum(path.stat().st_size for path in tmp_path.iterdir()) <= 1 << 20


def test_serving_a_picture_marks_it_used(app, settings):
    url = upload(app, picture("PNG")).get_json()["url"]
    path = settings.upload_path / url.rsplit("/", 1)[1]
    os.utime(path, (1_000_000, 1_000_000))
    assert app.test_client().get(url).status_code == 200
    assert path.stat().st_mtime > 1_000_000


# --- decoded size -----------------------------------------------------------------------------


def test_a_picture_with_more_pixels_than_allowed_is_refused_before_decoding(app_with, tmp_path):
    app = app_with(upload_max_pixels=100 * 100)
    response = upload(app, picture("PNG", size=(101, 100)))
    assert code_of(response, 413) == "too_large" and "million pixels" in response.get_json()["error"]["message"]
    assert upload(app, picture("PNG", size=(100, 100))).status_code == 201


def test_a_large_jpeg_is_decoded_reduced_so_it_fits_the_pixel_limit(app_with):
    app = app_with(upload_max_pixels=9_000_000)
    big = picture("JPEG", size=(7680, 4320))  # 33 million pixels; decoded at half size: 8.3 million
    response = upload(app, big)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["width"], response.get_json()["height"]) == (3840, 2160)


# --- a write that fails ---------------------------------------------------------------------


def test_a_write_that_fails_leaves_no_file_behind_and_says_so(tmp_path):
    """The real ImageStore in a process that may write files of at most 64 KiB (RLIMIT_FSIZE):
    the operating system refuses the rest of a larger picture's write."""
    folder = tmp_path / "uploads"
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from ensemble.protocol import ProtocolError
        from ensemble.uploads import ImageStore
        from tests.unit.test_upload_limits import noise
        data = noise((300, 300), 1)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
        try:
            ImageStore({str(folder)!r}, 1 << 20).store(data)
        except ProtocolError as error:
            print(error.code, error.message)
        """
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.stdout.strip() == "unavailable The picture could not be stored; try again later.", finished
    assert "File too large" in finished.stderr  # the warning logged
    assert list(folder.iterdir()) == []


# --- the guard's own memory -------------------------------------------------------------------


def test_the_guard_forgets_addresses_that_went_quiet():
    now = [0.0]
    guard = Guard(make_settings(joins_per_ip_per_minute=10, password_lockout_seconds=60), clock=lambda: now[0])
    for number in range(SWEEP_EVERY):
        guard.join(f"10.0.{number // 256}.{number % 256}", "room")
        guard.wrong_password(f"10.0.{number // 256}.{number % 256}", f"room{number}")
    assert guard.entries() == 2 * SWEEP_EVERY  # joins and wrong passwords, per address (rooms are not counted)
    now[0] = 120.0  # their buckets are full again and their failures too old to count
    guard.join("192.0.2.1", "room")
    guard.wrong_password("192.0.2.1", "room")
    assert guard.entries() == 2
    for _ in range(5):
        guard.connect("192.0.2.1")
    for _ in range(5):
        guard.disconnect("192.0.2.1")
    assert guard.entries() == 2
