"""One ffmpeg per broadcast: WebM chunks on its standard input, HLS out.

The chunks reach ffmpeg only through its standard input; its command line holds our own
words and folder names, nothing a client sent. H.264 video is copied (the browser's
keyframes cut the segments); VP8 and VP9 are transcoded to H.264 with a keyframe every
second. Audio (Opus) is always encoded to AAC, which HLS players take everywhere.
"""

import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)
SEGMENT_SECONDS = 1
PLAYLIST_SEGMENTS = 6  # the window a late viewer can start from
PLAYLIST = "index.m3u8"
SEGMENT_PATTERN = "s%05d.ts"
# How long ffmpeg may take to write its last segment and #EXT-X-ENDLIST once its input ends.
CLOSE_SECONDS = 5.0

COPY_VIDEO = ["-c:v", "copy"]
TRANSCODE_VIDEO = [
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
    "-b:v", "2500k", "-maxrate", "3000k", "-bufsize", "3000k",
    "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0",
]
AUDIO = ["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000"]


def command(ffmpeg, folder, copy, restarted=False):
    """ffmpeg's arguments: Matroska/WebM on standard input, HLS into `folder`. A restarted ffmpeg
    appends to the playlist the first one wrote, after a discontinuity."""
    flags = "delete_segments+independent_segments" + ("+append_list+discont_start" if restarted else "")
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats",
        "-fflags", "+genpts+nobuffer", "-analyzeduration", "500000", "-probesize", "65536",
        "-f", "matroska", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?",
        *(COPY_VIDEO if copy else TRANSCODE_VIDEO), *AUDIO,
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", str(PLAYLIST_SEGMENTS),
        "-hls_flags", flags, "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(Path(folder) / SEGMENT_PATTERN),
        str(Path(folder) / PLAYLIST),
    ]


class Encoder:
    """A running ffmpeg: `feed(data)` writes to it, `close()` ends its input and waits for it."""

    def __init__(self, ffmpeg, folder, copy, log_path, restarted=False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as errors:
            self._process = subprocess.Popen(
                command(ffmpeg, folder, copy, restarted), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                start_new_session=True,
            )

    @property
    def pid(self):
        return self._process.pid

    @property
    def alive(self):
        return self._process.poll() is None

    def feed(self, data):
        """Write one chunk; False if ffmpeg is gone."""
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):  # ValueError: the pipe was closed
            return False

    def close(self):
        """End ffmpeg's input so it writes its last segment and #EXT-X-ENDLIST; killed if it takes too long."""
        try:
            self._process.stdin.close()
        except OSError:
            pass  # ffmpeg already gone: nothing to flush
        try:
            self._process.wait(CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("ffmpeg did not end in time: killed", extra={"fields": {"pid": self.pid}})
            self.kill()

    def kill(self):
        self._process.kill()
        self._process.wait()
