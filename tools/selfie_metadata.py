"""Give the packaged selfie-segmentation models the metadata MediaPipe Tasks needs.

`@mediapipe/selfie_segmentation` ships the models without metadata, and the
Tasks ImageSegmenter refuses a model that does not say how to normalise its
input. The models take RGB in 0..1 (mean 0, std 255) and have one output
channel, the person probability, so they get exactly that and the label
"person". Run by tools/install_assets.py, in the tools' own virtualenv
(.venv-tools: tflite-support is no dependency of the server).
"""

import io
import tempfile
import zipfile
from pathlib import Path

from tflite_support.metadata_writers import image_segmenter, writer_utils

# The label file's time in the model's ZIP of associated files: fixed, so every setup writes the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def add_metadata(source, target):
    with tempfile.TemporaryDirectory() as folder:
        labels = Path(folder) / "labels.txt"
        labels.write_text("person\n")
        writer = image_segmenter.MetadataWriter.create_for_inference(
            writer_utils.load_file(str(source)), input_norm_mean=[0.0], input_norm_std=[255.0], label_file_paths=[str(labels)]
        )
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(with_fixed_zip_time(bytes(writer.populate())))


def with_fixed_zip_time(model):
    """The model with its appended ZIP of associated files written again at ZIP_TIME.

    The metadata writer stamps each file it zips with the current time, so two
    setups would write different bytes; otherwise the ZIP is the same (stored,
    not compressed, mode 0600, as zipfile's writestr makes it).
    """
    with zipfile.ZipFile(io.BytesIO(model)) as packed:
        entries = packed.infolist()
        files = [(entry.filename, packed.read(entry)) for entry in entries]
        start = min(entry.header_offset for entry in entries)
    out = io.BytesIO(model[:start])
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a") as appended:
        for name, content in files:
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.external_attr = 0o600 << 16
            appended.writestr(entry, content)
    return out.getvalue()
