"""Documents → one polars table per record type, each row knowing its document and pointer.

The package: `base` (the `_doc`/`_ptr` columns, dtypes, `Frames`), `exact` (value by
value, any document), `columnwise` and `from_json` (the fast paths for documents that
passed the schema), `builder` (batches, threads and the choice of path), `documents`
(the documents of a run by `_doc`).
"""

from toolkit.frames.base import DOC, PTR, Frames
from toolkit.frames.builder import FrameBuilder
from toolkit.frames.exact import build_frames

__all__ = ["DOC", "PTR", "FrameBuilder", "Frames", "build_frames"]
