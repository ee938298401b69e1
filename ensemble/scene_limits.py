"""The largest scene the schema allows, and a cheap walk that refuses anything larger.

jsonschema looks at every value it is given, and goes on after the first error: 21,000
empty participants (63 KB) took it 0.6 s of the event loop. The limits here are read from
the schema itself (every list has `maxItems`, every string `maxLength` or an `enum`, every
object `additionalProperties: false`), so a scene the schema would accept always passes the
walk, and the walk stops at the first value beyond them, having looked at no more values
than the largest valid scene holds. What reaches jsonschema is then at most that large.
"""

from dataclasses import dataclass

from .protocol import ProtocolError

SCALARS = {"number", "integer", "boolean", "null"}
# Keywords of anyOf/oneOf/allOf branches that add no values of their own.
CONSTRAINTS_ONLY = {"required"}


@dataclass(frozen=True)
class SceneLimits:
    levels: int  # lists and objects inside one another, the scene itself counted
    items: int  # in any one list
    fields: int  # in any one object
    name_length: int  # of any field name
    text_length: int  # of any string
    values: int  # in the whole scene, lists and objects counted

    @classmethod
    def of(cls, schema):
        """The limits of what `schema` accepts; ValueError naming the place if it leaves one open."""
        return _largest(schema, schema.get("$defs", {}), "scene")

    def check(self, scene):
        """Refuse the first value beyond the limits (`bad_request`, or `too_large` for too many
        values in all), with the field where it is; look at no more than `values` values."""
        pending = [(scene, ())]
        seen = 0
        while pending:
            value, path = pending.pop()
            seen += 1
            if seen > self.values:
                raise _refusal("too_large", path, f"more values than a scene holds (at most {self.values})")
            if isinstance(value, str) and len(value) > self.text_length:
                raise _refusal("bad_request", path, f"longer than any text in a scene (at most {self.text_length} characters)")
            if isinstance(value, dict | list):
                pending.extend(reversed(self._inside(value, path)))

    def _inside(self, value, path):
        """What a list or object holds, with where each is, once its own size is within the limits."""
        if len(path) >= self.levels:
            raise _refusal("bad_request", path, f"nested deeper than a scene goes (at most {self.levels} levels)")
        if isinstance(value, list):
            if len(value) > self.items:
                raise _refusal("bad_request", path, f"more items than a list in a scene has (at most {self.items})")
            return [(item, (*path, index)) for index, item in enumerate(value)]
        if len(value) > self.fields:
            raise _refusal("bad_request", path, f"more fields than an object in a scene has (at most {self.fields})")
        if any(not isinstance(key, str) or len(key) > self.name_length for key in value):
            raise _refusal("bad_request", path, "a field name longer than any the scene schema knows")
        return [(item, (*path, key)) for key, item in value.items()]


def field_path(path):
    """`participants[0].scale` from a path of keys and indexes (a tuple here, jsonschema's deque)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _refusal(code, path, why):
    field = field_path(path)
    return ProtocolError(code, f"{f'Scene field {field}' if field else 'Scene'}: {why}.", field=field or None)


def _largest(node, defs, where):
    """SceneLimits of the values `node` (a schema) accepts; `where` names it in errors."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        if name not in defs or set(node) - {"$ref", "description", "$comment"}:
            raise ValueError(f"The scene schema's {where}: only a bare reference into $defs is supported.")
        return _largest(defs[name], defs, name)
    _only_constraints(node, where)
    if "enum" in node:
        return _enumerated(node["enum"], where)
    kind = node.get("type")
    if kind == "object":
        return _largest_object(node, defs, where)
    if kind == "array":
        return _largest_array(node, defs, where)
    if kind == "string":
        if not isinstance(node.get("maxLength"), int):
            raise ValueError(f"The scene schema's {where} leaves strings open: give it a maxLength.")
        return SceneLimits(0, 0, 0, 0, node["maxLength"], 1)
    if kind in SCALARS:
        return SceneLimits(0, 0, 0, 0, 0, 1)
    raise ValueError(f"The scene schema's {where} leaves its type open: give it one type or an enum.")


def _largest_object(node, defs, where):
    if node.get("additionalProperties") is not False:
        raise ValueError(f"The scene schema's {where} leaves its fields open: give it additionalProperties: false.")
    properties = node.get("properties", {})
    inside = [_largest(schema, defs, f"{where}.{name}") for name, schema in properties.items()]
    own = SceneLimits(1, 0, len(properties), max(map(len, properties), default=0), 0, 1)
    return _combined(own, inside, values=1 + sum(limits.values for limits in inside))


def _largest_array(node, defs, where):
    if not isinstance(node.get("maxItems"), int) or "items" not in node or "prefixItems" in node:
        raise ValueError(f"The scene schema's {where} leaves its lists open: give it items and a maxItems.")
    item = _largest(node["items"], defs, f"{where}[]")
    own = SceneLimits(1, node["maxItems"], 0, 0, 0, 1)
    return _combined(own, [item], values=1 + node["maxItems"] * item.values)


def _combined(own, inside, values):
    """A list's or object's limits: its own, the largest of what it holds, one level more."""
    every = [own, *inside]
    return SceneLimits(
        levels=1 + max((limits.levels for limits in inside), default=0),
        items=max(limits.items for limits in every),
        fields=max(limits.fields for limits in every),
        name_length=max(limits.name_length for limits in every),
        text_length=max(limits.text_length for limits in every),
        values=values,
    )


def _enumerated(choices, where):
    if any(isinstance(choice, dict | list) for choice in choices):
        raise ValueError(f"The scene schema's {where}: an enum of lists or objects is not supported.")
    texts = [len(choice) for choice in choices if isinstance(choice, str)]
    return SceneLimits(0, 0, 0, 0, max(texts, default=0), 1)


def _only_constraints(node, where):
    """anyOf/oneOf/allOf may only say what is required (they would add values the walk does not know)."""
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(keyword, []):
            if set(branch) - CONSTRAINTS_ONLY:
                raise ValueError(f"The scene schema's {where}: {keyword} branches may only hold `required`.")
    for keyword in ("not", "if", "then", "else", "patternProperties", "dependentSchemas", "unevaluatedProperties"):
        if keyword in node:
            raise ValueError(f"The scene schema's {where}: {keyword} is not supported by the scene limits.")
