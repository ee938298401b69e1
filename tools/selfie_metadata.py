"""Give the packaged selfie-segmentation models the metadata MediaPipe Tasks needs.

`@mediapipe/selfie_segmentation` ships the models without metadata, and the
Tasks ImageSegmenter refuses a model that does not say how to normalise its
input. The models take RGB in 0..1 (mean 0, std 255) and have one output
channel, the person probability, so they get exactly that and the label
"person". Run by tools/install_assets.py.
"""

import tempfile
from pathlib import Path

from tflite_support.metadata_writers import image_segmenter, writer_utils


def add_metadata(source, target):
    with tempfile.TemporaryDirectory() as folder:
        labels = Path(folder) / "labels.txt"
        labels.write_text("person\n")
        writer = image_segmenter.MetadataWriter.create_for_inference(
            writer_utils.load_file(str(source)), input_norm_mean=[0.0], input_norm_std=[255.0], label_file_paths=[str(labels)]
        )
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        writer_utils.save_file(writer.populate(), str(target))
