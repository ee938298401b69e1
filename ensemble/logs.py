"""Log lines as text or as one JSON object a line (LOG_FORMAT).

Handlers pass what a line is about as `extra={"fields": {...}}`: ids, rooms,
event names and codes. Payloads never go into a log line, so SDP, chat text
and passwords cannot end up there.

Fields and message arguments may come from clients (event names, CSP reports):
`escaped` writes every line break, control character (an ANSI escape starts
with one) and bidirectional override as an escape, in both formats, so that a
line in the log is always one line the server wrote.
"""

import json
import logging
import os
import re

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi controls.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A text field's value is quoted (as a JSON string) when it holds what would end or fake a `key=value`.
NEEDS_QUOTES = re.compile(r'[\s="\\]')


def escaped(text):
    """`text` with each unsafe character written as \\n, \\r, \\t or \\uXXXX: also valid
    inside a JSON string, where it stands for the character itself."""
    return UNSAFE.sub(lambda match: SHORT_ESCAPES.get(match[0]) or f"\\u{ord(match[0]):04x}", text)


def _text_value(value):
    text = str(value)
    return escaped(json.dumps(text, ensure_ascii=False) if not text or NEEDS_QUOTES.search(text) else text)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record):
        return escaped(super().formatMessage(record))

    def format(self, record):
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return line
        pairs = " ".join(f"{escaped(str(key))}={_text_value(value)}" for key, value in fields.items() if value is not None)
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} {pairs}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
            **{key: value for key, value in (getattr(record, "fields", None) or {}).items() if value is not None},
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        # json.dumps escapes C0 controls itself, and leaves the rest (U+2028, C1...) to `escaped`.
        return escaped(json.dumps(entry, ensure_ascii=False, default=str))


def setup_logging(settings):
    """Configure the root logger once for the whole process."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
