"""The tables entity resolution adds to an export: clusters and disagreements.

No input file holds them (they are computed from `same_as` links, judgements and the
facts), so their columns are declared here, once, like the other derived columns; the
Data Package, the codebook, the Arrow types and the pandera contract derive from them.
"""

from __future__ import annotations

from toolkit.model.tables import Column, Table

_CLUSTER = Column(
    "cluster_id",
    "string",
    "The cluster: the smallest dataset-wide id among its exported members.",
    required=True,
)
_MEMBER = Column(
    "id", "string", "Dataset-wide id of a member (a fact, or an actor id).", required=True
)
_TABLE = Column("table", "string", "The table the member is a row of.", required=True)

CLUSTERS = Table(
    name="clusters",
    row="member",
    kind="derived",
    description="Every exported fact and registry actor with its cluster: the records that "
    "same_as links and 'same' judgements join are one thing reported several times.",
    columns=(
        _CLUSTER,
        _MEMBER,
        _TABLE,
        Column(
            "source_id",
            "string",
            "The source that reports the member (null for an actor).",
            ref="source",
        ),
        Column("members", "integer", "How many exported records the cluster has.", required=True),
    ),
    primary_key=("id",),
)

DISAGREEMENTS = Table(
    name="disagreements",
    row="value",
    kind="derived",
    description="Where the members of one cluster disagree (a date, a party list, a status, "
    "a count): one row per member and field, with the value that member reports; nothing "
    "is picked as the winner.",
    columns=(
        _CLUSTER,
        Column("field", "string", "The field the members disagree on.", required=True),
        _MEMBER,
        _TABLE,
        Column(
            "value",
            "string",
            "What this member reports, as text (a party list as sorted actor ids joined by ', ').",
            required=True,
        ),
    ),
    primary_key=("cluster_id", "field", "id"),
)

RESOLUTION_TABLES = (CLUSTERS, DISAGREEMENTS)
