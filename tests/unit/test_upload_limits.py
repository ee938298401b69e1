"""Who may upload, how often, how much the folder keeps, how large a picture may be decoded,
and that a failed write leaves nothing behind."""

import io
import os
import random
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import pytest
from PIL import Image

from ensemble import create_app, upload_folder
from ensemble.guard import SWEEP_EVERY, Guard
from ensemble.protocol import ProtocolError
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


# --- decoding: header first, in a few threads at once -------------------------------------------


def solid(kind, size, **options):
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, kind, **options)
    return out.getvalue()


def animated(kind, size):
    frames = [Image.new("RGB", size, (number * 60, 0, 0)) for number in range(3)]
    out = io.BytesIO()
    frames[0].save(out, kind, save_all=True, append_images=frames[1:])
    return out.getvalue()


def rotated_jpeg(size):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter
    return solid("JPEG", size, exif=exif.tobytes())


def damaged(data):
    """The picture with its headers whole and its pixel data spoiled: decoding it fails."""
    if data.startswith(b"RIFF"):  # WebP: spoil the first frame's VP8 data, keep every chunk header
        spoiled = bytearray(data)
        start = data.find(b"VP8 ") + 8
        size = int.from_bytes(data[start - 4:start], "little")
        spoiled[start + 20:start + size] = b"\xff" * (size - 20)
        return bytes(spoiled)
    return data[:400] if data.startswith(b"\x89PNG") else data[: len(data) // 3]  # PNG, JPEG: cut short


@pytest.mark.parametrize(
    "data",
    [
        solid("PNG", (3000, 3000)), animated("PNG", (3000, 3000)), solid("JPEG", (3000, 3000)), rotated_jpeg((3000, 1000)),
        solid("WEBP", (3000, 3000)), solid("WEBP", (3000, 3000), lossless=True), animated("WEBP", (3000, 3000)),
    ],
    ids=["png", "animated png", "jpeg", "rotated jpeg", "webp", "lossless webp", "animated webp"],
)
def test_every_kind_of_picture_is_refused_from_its_header_before_anything_is_decoded(tmp_path, data):
    """A picture whose pixels cannot be decoded is refused as too large, not as damaged: the
    refusal came before decoding (a JPEG's draft reduction included: 1/8 of 3000 px is 375)."""
    spoiled = damaged(data)
    with pytest.raises(ProtocolError) as decoded:
        ImageStore(tmp_path, max_bytes=1 << 20).store(spoiled)
    assert decoded.value.code == "unsupported_image"  # decoding it fails
    with pytest.raises(ProtocolError) as refused:
        ImageStore(tmp_path, max_bytes=1 << 20, max_pixels=100_000).store(spoiled)
    assert refused.value.code == "too_large" and "million pixels" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_header_past_pillows_own_bomb_limit_is_too_large(tmp_path):
    header = damaged(solid("PNG", (100, 100)))
    fields = (20_000).to_bytes(4, "big") * 2 + header[24:29]  # IHDR: 20,000 px a side
    huge = header[:16] + fields + zlib.crc32(b"IHDR" + fields).to_bytes(4, "big") + header[33:]
    with pytest.raises(ProtocolError) as refused:
        ImageStore(tmp_path, max_bytes=1 << 20).store(huge)
    assert refused.value.code == "too_large"


def test_at_most_the_allowed_number_of_pictures_are_decoded_at_once(tmp_path):
    """With one decoder busy, another upload waits `decode_wait` for it, then is refused;
    once it is free the next is decoded."""
    busy, free = threading.Event(), threading.Event()

    def held_thread(function, *args):
        if function is not upload_folder.scan:
            busy.set()
            assert free.wait(10)
        return function(*args)

    store = ImageStore(tmp_path, max_bytes=1 << 20, decoders=1, decode_wait=0.05, run=held_thread)
    first = threading.Thread(target=store.store, args=(picture("PNG"),))
    first.start()
    assert busy.wait(10)
    with pytest.raises(ProtocolError) as refused:
        store.store(picture("PNG", colour=(1, 2, 3)))
    assert refused.value.code == "rate_limited" and "busy" in refused.value.message
    free.set()
    first.join(10)
    assert store.store(picture("PNG", colour=(1, 2, 3))).width == 64
    assert len(list(tmp_path.glob("*.png"))) == 2


def test_the_busy_refusal_is_a_structured_429(app_with):
    app = app_with(upload_decoders=1)
    store = app.extensions["ensemble"].images
    store._decoders.acquire()  # another upload is being decoded
    store._decode_wait = 0.01
    try:
        assert code_of(upload(app, picture("PNG")), 429) == "rate_limited"
    finally:
        store._decoders.release()
    assert upload(app, picture("PNG")).status_code == 201


# --- the folder's account: files as well as bytes, no scan per upload ----------------------------


def tiny(number):
    """A different small PNG for each number."""
    return picture("PNG", size=(8, 8), colour=(number % 256, number // 256 % 256, 7))


def test_the_folder_keeps_at_most_its_number_of_files(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, quota_files=3)
    names = []
    for number in range(5):
        names.append(store.store(tiny(number)).name)
        os.utime(tmp_path / names[-1], (1_000_000 + number, 1_000_000 + number))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[2:])


def test_bytes_and_files_count_together(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, quota_bytes=600_000, quota_files=4)
    stored = [store.store(data) for data in (tiny(0), tiny(1), noise((300, 300), 0), noise((300, 300), 1))]
    for age, kept in enumerate(stored):
        os.utime(tmp_path / kept.name, (1_000_000 + age, 1_000_000 + age))
    store.store(tiny(2))  # a fifth file: the oldest goes
    assert not (tmp_path / stored[0].name).exists() and (tmp_path / stored[1].name).exists()
    store.store(noise((300, 300), 2))  # 270 KB more than 600 KB holds: the oldest go until it fits
    assert not (tmp_path / stored[1].name).exists() and not (tmp_path / stored[2].name).exists()
    assert (tmp_path / stored[3].name).exists()
    assert len(list(tmp_path.iterdir())) <= 4 and sum(path.stat().st_size for path in tmp_path.iterdir()) <= 600_000


def test_uploads_do_not_scan_the_whole_folder_each_time(tmp_path, monkeypatch):
    for number in range(2000):
        (tmp_path / f"{number:032x}.png").write_bytes(b"old picture")
    scans = []
    real_scandir = os.scandir

    def counted(path="."):
        scans.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    store = ImageStore(tmp_path, max_bytes=1 << 20)
    for number in range(10):
        store.store(tiny(number))
    assert scans.count(str(tmp_path)) == 1, scans  # the account was built once
    assert len(list(tmp_path.glob("*.png"))) == 2010


def test_the_account_is_rebuilt_to_see_what_another_process_stored(tmp_path):
    now = [0.0]
    ours = ImageStore(tmp_path, max_bytes=1 << 20, quota_files=4, clock=lambda: now[0])
    theirs = ImageStore(tmp_path, max_bytes=1 << 20)
    ours.store(tiny(0), "ours")
    for number in range(1, 4):
        theirs.store(tiny(number), "theirs")  # 1 picture and 1 link each: the folder holds 8 files
    assert (tmp_path / ours.store(tiny(0), "ours").name).exists()  # the same picture: nothing new
    now[0] = upload_folder.RESCAN_SECONDS + 1  # our account is rebuilt: the folder is full
    with pytest.raises(ProtocolError) as refused:
        ours.store(tiny(9), "ours")
    assert refused.value.code == "unavailable" and refused.value.status == 507


# --- per room, and the total that no room may take from another ---------------------------------


def room_links(folder, room):
    return sorted(path.name for path in (folder / "rooms" / room).iterdir())


def test_a_room_past_its_files_loses_its_own_oldest_but_their_urls_keep_working(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, room_files=2)
    names = []
    for number in range(3):
        names.append(store.store(tiny(number), "a").name)
        os.utime(tmp_path / names[-1], (1_000_000 + number, 1_000_000 + number))
    assert room_links(tmp_path, "a") == sorted(names[1:])
    assert all(store.path(name) for name in names)  # the first belongs to no room now, still served


def test_a_room_past_its_bytes_loses_its_own_oldest(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, room_bytes=600_000)
    names = []
    for seed in range(3):
        names.append(store.store(noise((300, 300), seed), "a").name)
        os.utime(tmp_path / names[-1], (1_000_000 + seed, 1_000_000 + seed))
    assert room_links(tmp_path, "a") == sorted(names[1:])


def test_a_picture_larger_than_a_rooms_quota_is_refused(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, room_bytes=100_000)
    with pytest.raises(ProtocolError) as refused:
        store.store(noise((300, 300), 1), "a")
    assert refused.value.code == "too_large" and "room" in refused.value.message
    assert not list(tmp_path.glob("*.png"))


def test_a_picture_two_rooms_uploaded_stays_theirs_when_one_lets_it_go(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, room_files=1)
    shared = store.store(tiny(0), "a").name
    store.store(tiny(0), "b")
    store.store(tiny(1), "a")  # a's own quota lets the shared picture go from a
    assert room_links(tmp_path, "a") != [shared] and room_links(tmp_path, "b") == [shared]
    assert (tmp_path / shared).stat().st_nlink == 2  # still b's


def test_past_the_total_a_room_in_use_keeps_its_pictures_and_the_upload_is_refused(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, quota_files=4)
    theirs = store.store(tiny(0), "b").name
    os.utime(tmp_path / theirs, (time.time() - 3600,) * 2)  # shown an hour ago
    store.store(tiny(1), "a")
    with pytest.raises(ProtocolError) as refused:
        store.store(tiny(2), "a")
    assert (refused.value.code, refused.value.status) == ("unavailable", 507)
    assert "full" in refused.value.message
    assert store.path(theirs) and room_links(tmp_path, "b") == [theirs]


def test_past_the_total_pictures_of_no_room_or_unused_for_long_go_first(tmp_path):
    store = ImageStore(tmp_path, max_bytes=1 << 20, quota_files=4, room_files=1)
    unused = store.store(tiny(0), "old").name
    os.utime(tmp_path / unused, (time.time() - upload_folder.UNUSED_SECONDS - 60,) * 2)
    store.store(tiny(1), "a")
    dropped = store.store(tiny(1), "a").name  # the same: nothing new
    store.store(tiny(2), "a")  # a's first leaves its room: it belongs to no room now; 5 files
    kept = {path.name for path in tmp_path.glob("*.png")}
    assert unused not in kept and not (tmp_path / "rooms" / "old").exists()
    assert dropped in kept  # the folder fitted once the unused one went
    store.store(tiny(3), "b")
    assert dropped not in {path.name for path in tmp_path.glob("*.png")}


def test_uploads_of_room_a_past_the_quota_never_remove_room_bs_picture(app_with):
    """The folder holds two pictures of about 270 KB: Bea's, then one of Ada's; Ada's next is
    refused with a structured 507, and Bea's picture is still served."""
    app = app_with(upload_max_bytes=400_000, upload_quota_bytes=600_000)
    bea = member_of(app, room="b", name="Bea")
    url = upload(app, noise((300, 300), 0), headers=bea).get_json()["url"]
    ada = member_of(app, room="a", name="Ada")
    assert upload(app, noise((300, 300), 1), headers=ada).status_code == 201
    refused = upload(app, noise((300, 300), 2), headers=ada)
    assert code_of(refused, 507) == "unavailable" and "full" in refused.get_json()["error"]["message"]
    assert app.test_client().get(url).status_code == 200
