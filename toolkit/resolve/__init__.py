"""Entity resolution: which records of different sources report the same thing.

`kinds` says, table by table, what names a record and what else identifies it (one entry
per kind, so a new fact table is one line); `normalise` turns names into comparable
text; `blocking` proposes only pairs that share a rare key; `scoring` scores them with
rapidfuzz; `cluster` joins `same_as` links and 'same' judgements into clusters;
`disagree` finds where the members of a cluster report different values; `checks` is the
validation family; `judgements` reads and writes the judgement records.
"""

from __future__ import annotations

from toolkit.resolve.candidates import candidates
from toolkit.resolve.cluster import cluster_ids, components
from toolkit.resolve.judgements import Judgement, append_judgements

__all__ = ["Judgement", "append_judgements", "candidates", "cluster_ids", "components"]
