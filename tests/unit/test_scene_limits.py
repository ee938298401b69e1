"""What a scene can cost the server: the worst scenes that fit in a `scene` event (64 KiB)
are refused at once, naming the field; a stranger's scene is refused before it is looked at."""

import json
import time

import pytest

from ensemble.protocol import SCENE_MAX_BYTES, ProtocolError, encoded_size
from ensemble.scenes import SCHEMA_FILE, SceneSchema

# The most the event loop may spend on one scene (issue 21: no event of 64 KiB or less takes
# more than 20 ms of the loop).
LOOP_BUDGET = 0.020


def deep(levels, inner=0):
    """`[[[…inner…]]]`, `levels` lists deep (JSON as the server decodes it takes about 990)."""
    return json.loads("[" * levels + json.dumps(inner) + "]" * levels)


def deep_objects(levels):
    return json.loads('{"a":' * levels + "0" + "}" * levels)


WRONG_PARTICIPANT = {
    "name": 1, "x": "a", "y": "b", "scale": -1, "z": 0.5, "mirror": 1, "opacity": 9, "hidden": 2,
    "effects": {"removeBackground": 1, "faceBoxes": 1, "landmarks": 1, "expression": 1, "sticker": 1},
}
WRONG_OVERLAY = {"image": 1, "x": "a", "y": "b", "scale": -1, "z": 0.5, "opacity": 9, "anchor": {"participant": 1, "to": 1}}
FULL_PARTICIPANT = {
    "name": "n" * 40, "x": 0.5, "y": 0.5, "scale": 1, "z": 3, "mirror": True, "opacity": 0.5, "hidden": False,
    "effects": {"removeBackground": True, "faceBoxes": True, "landmarks": True, "expression": True, "sticker": "crown"},
}
FULL_OVERLAY = {
    "image": "/static/" + "a" * 192, "x": 0.5, "y": 0.5, "scale": 1, "z": 3, "opacity": 0.5,
    "anchor": {"participant": "n" * 40, "to": "face"},
}
# The largest scene the schema allows: every field, 32 people, 32 overlays.
LARGEST_VALID = {
    "name": "n" * 80, "canvas": {"width": 1280, "height": 720},
    "background": {"image": "/static/backgrounds/studio.svg", "color": "#203040", "fit": "cover"},
    "arrange": "grid", "alignFaces": True, "participants": [FULL_PARTICIPANT] * 32, "overlays": [FULL_OVERLAY] * 32,
}
# Within every limit of the walk, and every field wrong: the most errors jsonschema can find.
LARGEST_WRONG = {"participants": [WRONG_PARTICIPANT] * 32, "overlays": [WRONG_OVERLAY] * 32}

WORST = [
    # (what, scene, code, field: the whole field, or its start followed by "…")
    ("21,000 empty people (0.6 s before)", {"participants": [{}] * 21_000}, "bad_request", "participants"),
    ("21,000 empty overlays (1.1 s before)", {"overlays": [{}] * 21_000}, "bad_request", "overlays"),
    ("a long list where a number goes", {"participants": [{"name": "Ada", "x": [0] * 30_000}]}, "bad_request", "participants[0].x"),
    ("many fields in a person", {"participants": [{f"k{n}": 0 for n in range(6000)}]}, "bad_request", "participants[0]"),
    ("many fields in the scene", {f"k{n}": 0 for n in range(6000)}, "bad_request", None),
    ("one huge field name", {"participants": [{"n" * 60_000: 0}]}, "bad_request", "participants[0]"),
    ("a long name", {"participants": [{"name": "n" * 60_000}]}, "bad_request", "participants[0].name"),
    ("a long picture path", {"background": {"image": "/static/" + "a./" * 20_000}}, "bad_request", "background.image"),
    ("lists 900 deep", {"participants": [{"name": "Ada", "effects": {"sticker": deep(900)}}]}, "bad_request", "participants[0].effects.sticker"),
    ("objects 900 deep", {"participants": [{"name": "Ada", "effects": deep_objects(900)}]}, "bad_request", "participants[0].effects.a"),
    ("lists 900 deep at the top", {"name": deep(900)}, "bad_request", "name…"),
    (
        "many small lists, each within the limits",
        {"participants": [{key: [0] * 32 for key in FULL_PARTICIPANT}] * 32},
        "too_large", "participants…",
    ),
    ("every field of 32 people and 32 overlays wrong", LARGEST_WRONG, "bad_request", "participants…"),
]


def cpu_seconds(action, runs=3):
    """The least CPU time of `runs` runs of `action` (the machine's other load does not count)."""
    spent = []
    for _ in range(runs):
        started = time.thread_time()
        action()
        spent.append(time.thread_time() - started)
    return min(spent)


def refusal(schema, scene):
    with pytest.raises(ProtocolError) as refused:
        schema.validate(scene)
    return refused.value


@pytest.mark.parametrize("what, scene, code, field", WORST, ids=[case[0] for case in WORST])
def test_the_worst_scenes_that_fit_in_an_event_are_refused_at_once_naming_the_field(what, scene, code, field):
    schema = SceneSchema()
    assert encoded_size(scene) <= SCENE_MAX_BYTES
    refused = refusal(schema, scene)
    assert refused.code == code, refused.message
    if field is not None and field.endswith("…"):
        assert (refused.field or "").startswith(field[:-1]), refused.field
    else:
        assert refused.field == field, refused.message
    assert len(refused.message) <= 200, refused.message
    spent = cpu_seconds(lambda: refusal(schema, scene))
    assert spent < LOOP_BUDGET, f"{what}: {spent * 1000:.1f} ms"


def test_the_largest_scene_the_schema_allows_is_accepted_and_fits_in_an_event():
    assert encoded_size(LARGEST_VALID) <= SCENE_MAX_BYTES
    assert SceneSchema().validate(LARGEST_VALID) == LARGEST_VALID


def test_the_schema_is_checked_through_the_runner_and_only_the_walk_runs_on_the_loop():
    """Under gevent and eventlet the runner is an OS thread (ensemble.offload): what is left on
    the loop is the walk that bounds the scene, well within the budget for the largest scenes."""
    handed = []

    def runner(function, *args):
        started = time.thread_time()
        result = function(*args)
        handed.append(time.thread_time() - started)
        return result

    schema = SceneSchema(run=runner)
    for scene in (LARGEST_VALID, LARGEST_WRONG):
        handed.clear()
        started = time.thread_time()
        try:
            schema.validate(scene)
        except ProtocolError:
            pass
        on_the_loop = time.thread_time() - started - sum(handed)
        assert len(handed) == 1 and on_the_loop < LOOP_BUDGET / 4, (handed, on_the_loop)
    # A scene refused by the walk never reaches the runner.
    handed.clear()
    refusal(schema, {"participants": [{}] * 21_000})
    assert handed == []


def test_a_schema_that_leaves_a_list_or_a_string_unbounded_is_refused_at_start(tmp_path):
    schema = json.loads(SCHEMA_FILE.read_text())
    del schema["properties"]["participants"]["maxItems"]
    (tmp_path / "lists.json").write_text(json.dumps(schema))
    with pytest.raises(ValueError, match="participants.*maxItems"):
        SceneSchema(tmp_path / "lists.json")
    schema = json.loads(SCHEMA_FILE.read_text())
    schema["$defs"]["color"].pop("maxLength", None)
    (tmp_path / "strings.json").write_text(json.dumps(schema))
    with pytest.raises(ValueError, match="color.*maxLength"):
        SceneSchema(tmp_path / "strings.json")
