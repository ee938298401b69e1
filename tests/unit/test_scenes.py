"""The scene schema, the example scenes and background uploads."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from ensemble import create_app
from ensemble.protocol import ProtocolError
from ensemble.scenes import EXAMPLES_FOLDER, SceneSchema
from tests.conftest import make_settings


def picture(kind, size=(64, 48), colour=(200, 40, 40), **options):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind, **options)
    return out.getvalue()


def member_of(app, room="uploads", name="Uploader"):
    """The X-Ensemble-Member header of a new member of `room` (a Socket.IO test client joins it)."""
    reply = app.extensions["socketio"].test_client(app).emit("join", {"room": room, "name": name}, callback=True)
    return {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}


def upload(app, data, filename="bg.png", field="image", headers=None):
    """POST a picture as a member (a fresh one unless `headers` say who)."""
    client = app.test_client()
    headers = member_of(app) if headers is None else headers
    return client.post(
        "/api/backgrounds", data={field: (io.BytesIO(data), filename)}, content_type="multipart/form-data", headers=headers
    )


def test_every_example_scene_is_valid_and_listed(app):
    files = sorted(path.stem for path in EXAMPLES_FOLDER.glob("*.json"))
    assert len(files) >= 3
    listed = app.test_client().get("/api/scenes").get_json()["scenes"]
    assert sorted(listed) == files
    for name in files:
        assert listed[name] == json.loads((EXAMPLES_FOLDER / name).with_suffix(".json").read_text())


def test_example_scenes_use_pictures_that_exist(app):
    client = app.test_client()
    for scene in client.get("/api/scenes").get_json()["scenes"].values():
        pictures = [scene.get("background", {}).get("image")] + [overlay["image"] for overlay in scene.get("overlays", [])]
        for path in filter(None, pictures):
            assert client.get(path).status_code == 200, path


def test_a_broken_example_is_left_out_and_logged(tmp_path, caplog):
    (tmp_path / "good.json").write_text('{"arrange": "grid"}')
    (tmp_path / "typo.json").write_text('{"arange": "grid"}')
    (tmp_path / "truncated.json").write_text('{"arrange": ')
    assert SceneSchema().examples(tmp_path) == {"good": {"arrange": "grid"}}
    assert "typo.json" in caplog.text and "truncated.json" in caplog.text


def test_the_browser_gets_the_same_schema_file(app):
    served = app.test_client().get("/api/scene-schema").get_json()
    assert served == SceneSchema().schema and served["$defs"]["participant"]["required"] == ["name"]


@pytest.mark.parametrize(
    "scene, where, keyword",
    [
        ({"background": {"image": "https://elsewhere.example/cat.png"}}, "image", "pattern"),
        ({"overlays": [{"image": "/static/stickers/crown.svg", "x": 0.5}]}, "overlay", "anyOf"),
    ],
)
def test_refusals_are_in_the_words_the_schema_gives_server_and_browser(scene, where, keyword):
    schema = SceneSchema()
    words = schema.schema["$defs"][where]["x-messages"][keyword]
    with pytest.raises(ProtocolError) as refused:
        schema.validate(scene)
    assert refused.value.message.endswith(f": {words}")


@pytest.mark.parametrize("kind, extension, mimetype", [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")])
def test_a_real_picture_is_stored_by_content_and_served_back(app, kind, extension, mimetype):
    response = upload(app, picture(kind), f"bg.{extension}")
    assert response.status_code == 201
    body = response.get_json()
    assert body["ok"] and body["url"].startswith("/uploads/") and body["url"].endswith(f".{extension}")
    assert (body["width"], body["height"]) == (64, 48)
    served = app.test_client().get(body["url"])
    assert served.status_code == 200 and served.mimetype == mimetype
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (64, 48) and image.format == kind
        red, green, blue = image.convert("RGB").getpixel((10, 10))
        assert red > 180 and green < 70 and blue < 70
    assert upload(app, picture(kind), "again").get_json()["url"] == body["url"]  # same picture, same address
    assert SceneSchema().validate({"background": {"image": body["url"]}})


def test_metadata_is_not_kept(app):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    response = upload(app, picture("JPEG", exif=exif.tobytes()), "bg.jpg")
    served = app.test_client().get(response.get_json()["url"]).data
    assert b"SecretCam" not in served


def test_an_oversized_picture_is_scaled_down(app):
    response = upload(app, picture("PNG", size=(5000, 100)))
    assert response.status_code == 201 and (response.get_json()["width"], response.get_json()["height"]) == (3840, 77)


@pytest.mark.parametrize(
    "data, status, code, words",
    [
        (b"just some text, not a picture", 415, "unsupported_image", "not a PNG, JPEG or WebP"),
        (picture("PNG", size=(400, 300))[:600], 415, "unsupported_image", "damaged or incomplete"),
        (picture("GIF"), 415, "unsupported_image", "not a PNG, JPEG or WebP"),
        (b"", 400, "bad_request", "empty"),
    ],
)
def test_anything_else_is_refused_clearly_and_nothing_is_stored(app, settings, data, status, code, words):
    response = upload(app, data)
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["error"]["code"] == code and words in body["error"]["message"]
    assert not settings.upload_path.exists() or not any(settings.upload_path.iterdir())


def test_a_file_over_the_limit_is_refused(tmp_path):
    app = create_app(make_settings(upload_folder=str(tmp_path), upload_max_bytes=20_000))
    big = picture("PNG", size=(300, 300), colour=(1, 2, 3))
    noisy = Image.effect_noise((300, 300), 90).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > 20_000 > len(big)
    response = upload(app, out.getvalue())
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    assert "MB" in response.get_json()["error"]["message"]
    assert not any(tmp_path.iterdir())
    assert upload(app, big).status_code == 201  # a small one still works


def test_a_huge_request_is_refused_before_it_is_read(tmp_path):
    app = create_app(make_settings(upload_folder=str(tmp_path), upload_max_bytes=20_000))
    response = upload(app, b"x" * 200_000)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


def test_an_upload_without_the_image_field_is_a_bad_request(app):
    response = upload(app, picture("PNG"), field="file")
    assert response.status_code == 400 and "`image`" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("name", ["../config/defaults.env", "abc.png", "0" * 32 + ".gif", "0" * 32 + ".png"])
def test_only_stored_pictures_are_served(app, name):
    assert app.test_client().get(f"/uploads/{name}").status_code == 404


LINE_ENDS = json.loads((Path(__file__).parents[1] / "data" / "scene-line-ends.json").read_text())


@pytest.mark.parametrize("case", LINE_ENDS["refused"])
def test_a_value_ending_in_a_line_break_is_refused_as_the_browser_refuses_it(case):
    """The same strings as tests/js/schema.test.mjs: one rule on both sides."""
    with pytest.raises(ProtocolError) as refused:
        SceneSchema().validate(case["scene"])
    assert refused.value.code == "bad_request" and refused.value.field == case["field"]


def test_the_same_values_without_the_line_break_are_accepted():
    for scene in LINE_ENDS["accepted"]:
        assert SceneSchema().validate(scene) == scene


def test_every_pattern_ends_where_the_string_ends_in_python_and_in_javascript():
    """`$` lets Python's re.search match before a final newline; (?![\\s\\S]) means the end in both."""

    def patterns(node):
        if isinstance(node, dict):
            yield from ([node["pattern"]] if isinstance(node.get("pattern"), str) else [])
            for key, value in node.items():
                yield from patterns(value) if key != "x-messages" else ()
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    found = list(patterns(SceneSchema().schema))
    assert len(found) >= 2
    for pattern in found:
        assert pattern.startswith("^") and pattern.endswith(r"(?![\s\S])") and "$" not in pattern, pattern
