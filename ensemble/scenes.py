"""Scenes: the one JSON Schema (config/scene.schema.json) and the example scenes.

The browser validates against the same file; the server checks every `scene`
event with it so a bad edit never reaches the other people in the room.
"""

import json
import logging
from itertools import islice
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .protocol import ProtocolError
from .scene_limits import SceneLimits, field_path
from .settings import ROOT

SCHEMA_FILE = ROOT / "config" / "scene.schema.json"
EXAMPLES_FOLDER = ROOT / "config" / "scenes"

# jsonschema's errors weighed for the one reported: the first few say as much as all of them
# (a scene of 32 people with every field wrong has 672, 20 ms of best_match).
ERRORS_WEIGHED = 10

log = logging.getLogger(__name__)


class SceneSchema:
    def __init__(self, schema_file=SCHEMA_FILE, run=None):
        """`run(function, *args)` runs jsonschema (ensemble.offload: an OS thread under gevent and
        eventlet); by default here and now. ValueError if the schema leaves a list, string or
        object open (scene_limits), since then no scene could be bounded before it is checked."""
        self.schema = json.loads(Path(schema_file).read_text())
        Draft202012Validator.check_schema(self.schema)
        self.limits = SceneLimits.of(self.schema)
        self._validator = Draft202012Validator(self.schema)
        self._run = run or (lambda function, *args: function(*args))

    def validate(self, scene):
        """Raise ProtocolError naming the first bad field (with `field` in the reply), or return the scene.

        The walk against the schema's limits runs on the caller's thread and stops at the first
        excess (a fraction of a millisecond); jsonschema, given at most the largest valid scene,
        runs through `run`."""
        self.limits.check(scene)
        error = self._run(self._first_error, scene)
        if error is None:
            return scene
        field = field_path(error.absolute_path)
        where = f"Scene field {field}" if field else "Scene"
        raise ProtocolError("bad_request", f"{where}: {_describe(error)}", field=field or None)

    def _first_error(self, scene):
        return best_match(islice(self._validator.iter_errors(scene), ERRORS_WEIGHED))

    def examples(self, folder=EXAMPLES_FOLDER):
        """The example scenes, by file stem; a broken example is logged and left out."""
        scenes = {}
        for path in sorted(Path(folder).glob("*.json")):
            try:
                scenes[path.stem] = self.validate(json.loads(path.read_text()))
            except (ValueError, ProtocolError) as error:
                log.error("example scene %s is not valid: %s", path.name, error)
        return scenes


def _describe(error):
    """The schema's own words for the failed keyword (`x-messages`, shared with the browser),
    else jsonschema's message without repeating a long instance."""
    written = error.schema.get("x-messages", {}).get(error.validator) if isinstance(error.schema, dict) else None
    if written:
        return written
    if error.validator == "additionalProperties":
        return error.message
    message = error.message
    return message if len(message) <= 160 else message[:157] + "..."
