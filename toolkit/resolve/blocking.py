"""Which pairs are compared at all: those sharing a blocking key, never all pairs.

As Splink's blocking rules and nomenklatura's token index do, a pair is a candidate only
when the two records share a key: a name token, their party set, or party set and year.
A key shared by more than `max_block` records says little (the token 'agreement', the
pair Russia–China) and would make the pairs grow with the square of the block, so it is
dropped, as an index drops its most frequent terms. The pairs are then at most
`max_block` per record and key: linear in the records.
"""

from __future__ import annotations

import polars as pl

MAX_BLOCK = 30  # records sharing one key; larger blocks are dropped
MIN_TOKEN = 2  # shorter name tokens are no keys


def keys(profiles: pl.DataFrame) -> pl.DataFrame:
    """(`key`, `id`) for every blocking key of every record."""
    parties = pl.col("parties").list.join(",")
    tokens = (
        profiles.select(
            "id",
            "table",
            pl.col("names")
            .list.eval(pl.element().str.split(" "))
            .list.eval(pl.element().explode())
            .list.unique()
            .alias("key"),
        )
        .explode("key")
        .filter(pl.col("key").str.len_chars() >= MIN_TOKEN)
        .select(pl.concat_str([pl.col("table"), pl.lit("|t|"), pl.col("key")]).alias("key"), "id")
    )
    with_parties = profiles.filter(pl.col("parties").list.len() > 0)
    party = with_parties.select(
        pl.concat_str([pl.col("table"), pl.lit("|p|"), parties]).alias("key"), "id"
    )
    party_year = with_parties.filter(pl.col("date").is_not_null()).select(
        pl.concat_str(
            [pl.col("table"), pl.lit("|py|"), parties, pl.lit("|"), pl.col("date").str.slice(0, 4)]
        ).alias("key"),
        "id",
    )
    return pl.concat([tokens, party, party_year]).unique()


def block(profiles: pl.DataFrame, max_block: int = MAX_BLOCK) -> pl.DataFrame:
    """Candidate pairs (`left` < `right`) of records of one table from different sources
    (registry actors have none, so any two may pair), each pair once."""
    found = keys(profiles)
    sizes = found.group_by("key").len()
    kept = found.join(
        sizes.filter((pl.col("len") > 1) & (pl.col("len") <= max_block)).select("key"),
        on="key",
        how="semi",
    )
    pairs = (
        kept.join(kept, on="key", suffix="_r")
        .filter(pl.col("id") < pl.col("id_r"))
        .select(pl.col("id").alias("left"), pl.col("id_r").alias("right"))
        .unique()
    )
    source = profiles.select("id", "source_id")
    pairs = (
        pairs.join(source.rename({"id": "left", "source_id": "_ls"}), on="left")
        .join(source.rename({"id": "right", "source_id": "_rs"}), on="right")
        .filter(pl.col("_ls").is_null() | (pl.col("_ls") != pl.col("_rs")))
        .drop("_ls", "_rs")
    )
    return pairs.sort("left", "right")
