"""Documents → one polars table per record type, each row knowing its document and pointer."""

from toolkit.frames.build import Frames, build_frames

__all__ = ["Frames", "build_frames"]
