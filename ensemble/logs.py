"""Log lines as text or as one JSON object a line (LOG_FORMAT).

Handlers pass what a line is about as `extra={"fields": {...}}`: ids, rooms,
event names and codes. Payloads never go into a log line, so SDP, chat text
and passwords cannot end up there.
"""

import json
import logging
import os

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record):
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return line
        pairs = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
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
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings):
    """Configure the root logger once for the whole process."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
