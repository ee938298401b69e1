"""Scenes: the one JSON Schema (config/scene.schema.json) and the example scenes.

The browser validates against the same file; the server checks every `scene`
event with it so a bad edit never reaches the other people in the room.
"""

import json
import logging
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .protocol import ProtocolError
from .settings import ROOT

SCHEMA_FILE = ROOT / "config" / "scene.schema.json"
EXAMPLES_FOLDER = ROOT / "config" / "scenes"

log = logging.getLogger(__name__)


def field_path(path):
    """`participants[0].scale` from jsonschema's deque of keys and indexes."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class SceneSchema:
    def __init__(self, schema_file=SCHEMA_FILE):
        self.schema = json.loads(Path(schema_file).read_text())
        Draft202012Validator.check_schema(self.schema)
        self._validator = Draft202012Validator(self.schema)

    def validate(self, scene):
        """Raise `bad_request` naming the first bad field (with `field` in the reply), or return the scene."""
        error = best_match(self._validator.iter_errors(scene))
        if error is None:
            return scene
        field = field_path(error.absolute_path)
        where = f"Scene field {field}" if field else "Scene"
        raise ProtocolError("bad_request", f"{where}: {_describe(error)}", field=field or None)

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
