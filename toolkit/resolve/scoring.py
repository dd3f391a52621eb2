"""Scores of candidate pairs, from 0 (unrelated) to 1 (the same in every respect).

Each pair gets comparison features, as Splink's comparison levels do: names (token by
token with rapidfuzz's ratio, the best over every name variant, computed for all pairs at
once by `process.cpdist` in C++), parties (Jaccard
overlap; in order for directed kinds), dates (compatible prefixes 1, same year 0.5, else
0) and places. The score is their weighted mean over the features both records have.
Splink learns such weights by expectation maximisation; a dataset of a few hundred
reports has too few pairs to learn from, so the weights are fixed and documented here.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, process

WEIGHTS = {"name": 0.55, "parties": 0.25, "date": 0.1, "place": 0.1}
KIND_PENALTY = 0.5  # two records of different kinds (a person and an organisation)


CHUNK = 250_000  # name-variant pairs scored at a time: bounds the token cross product


def _name_scores(pairs: pl.DataFrame, profiles: pl.DataFrame, strict: set[str]) -> pl.DataFrame:
    """The best name similarity of each pair over its name variants.

    Token by token (a soft Monge-Elkan measure): each token of one name is matched to the
    most similar token of the other (rapidfuzz's ratio). For titles (`strict` false) the
    shorter name's tokens must be found and the longer name's extra words cost a little
    ("comprehensive partnership" is in "comprehensive strategic partnership"); for people
    and other actors every token of both names must be found ("Kim Jong Un" is "Kim
    Jong-un", not "Kim Yo-jong"). Tokens are numbered once, so the cross product of two
    names is integers, and each distinct pair of tokens is scored once, by `cpdist` in C++.
    """
    exploded = profiles.select("id", pl.col("names").alias("_name")).explode("_name")
    exploded = exploded.filter(pl.col("_name").is_not_null() & (pl.col("_name") != ""))
    vocabulary = (
        exploded.select(pl.col("_name").str.split(" ").explode().alias("token"))
        .unique()
        .sort("token")
        .with_row_index("_tok")
    )
    words = vocabulary["token"].to_list()
    numbered = (
        exploded.with_row_index("_n")
        .with_columns(pl.col("_name").str.split(" ").alias("token"))
        .explode("token")
        .join(vocabulary, on="token")
        .group_by("_n", "id")
        .agg(pl.col("_tok"))
        .drop("_n")
    )
    variants = (
        pairs.select("left", "right", "table")
        .join(numbered.rename({"id": "left", "_tok": "_lt"}), on="left")
        .join(numbered.rename({"id": "right", "_tok": "_rt"}), on="right")
        .with_row_index("_v")
        .with_columns(pl.col("_lt").list.unique(), pl.col("_rt").list.unique())
    )
    found: list[pl.DataFrame] = []
    for start in range(0, variants.height, CHUNK):
        found.append(_variant_scores(variants.slice(start, CHUNK), words, strict))
    if not found:
        return pairs.select("left", "right").with_columns(pl.lit(None, pl.Float64).alias("name"))
    best = pl.concat(found).group_by("left", "right").agg(pl.col("name").max())
    return pairs.select("left", "right").join(best, on=["left", "right"], how="left")


def _variant_scores(variants: pl.DataFrame, words: list[str], strict: set[str]) -> pl.DataFrame:
    cross = variants.select("_v", "_lt", "_rt").explode("_lt").explode("_rt")
    distinct = cross.select("_lt", "_rt").unique()
    sim = process.cpdist(
        [words[i] for i in distinct["_lt"].to_list()],
        [words[i] for i in distinct["_rt"].to_list()],
        scorer=fuzz.ratio,
        workers=-1,
    )
    distinct = distinct.with_columns((pl.Series(sim, dtype=pl.Float64) / 100).alias("_s"))
    cross = cross.join(distinct, on=["_lt", "_rt"])
    # one 64-bit key per (variant, token): grouping on it is cheaper than on two columns
    shift = pl.col("_v").cast(pl.UInt64) * (1 << 32)
    cross = cross.with_columns(
        (shift + pl.col("_lt").cast(pl.UInt64)).alias("_lk"),
        (shift + pl.col("_rt").cast(pl.UInt64)).alias("_rk"),
    )
    left_best = cross.group_by("_lk").agg(pl.col("_v").first(), pl.col("_s").max())
    right_best = cross.group_by("_rk").agg(pl.col("_v").first(), pl.col("_s").max())
    sides = (
        left_best.group_by("_v")
        .agg(pl.col("_s").mean().alias("_lm"), pl.col("_s").min().alias("_lmin"))
        .join(
            right_best.group_by("_v").agg(
                pl.col("_s").mean().alias("_rm"), pl.col("_s").min().alias("_rmin")
            ),
            on="_v",
        )
    )
    covered = pl.max_horizontal("_lm", "_rm")  # the shorter name's tokens found
    extra = pl.min_horizontal("_lm", "_rm")  # the longer name's tokens found
    every = pl.min_horizontal("_lmin", "_rmin")  # the worst-matched token of either name
    title = covered * (0.7 + 0.3 * extra)
    actor = pl.when(every < 0.5).then(every).otherwise((pl.col("_lm") + pl.col("_rm")) / 2)
    return (
        variants.select("_v", "left", "right", "table")
        .join(sides, on="_v")
        .select(
            "left",
            "right",
            pl.when(pl.col("table").is_in(list(strict))).then(actor).otherwise(title).alias("name"),
        )
    )


def _compatible(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Dates agree when one is a prefix of the other ('2024-06' and '2024-06-19')."""
    return a.str.starts_with(b) | b.str.starts_with(a)


def score(
    pairs: pl.DataFrame, profiles: pl.DataFrame, directed: set[str], strict: set[str]
) -> pl.DataFrame:
    """`pairs` (left, right) with `table`, each feature and `score`, best first. Parties
    are in order for `directed` tables; names match token for token for `strict` ones."""
    side = profiles.select("id", "table", "kind", "parties", "date", "place")
    frame = pairs.join(side.select("id", "table"), left_on="left", right_on="id")
    frame = (
        frame.join(_name_scores(frame, profiles, strict), on=["left", "right"], how="left")
        .join(side.drop("table").rename(lambda c: f"l_{c}"), left_on="left", right_on="l_id")
        .join(side.drop("table").rename(lambda c: f"r_{c}"), left_on="right", right_on="r_id")
    )
    common = pl.col("l_parties").list.set_intersection(pl.col("r_parties")).list.len()
    union = pl.col("l_parties").list.set_union(pl.col("r_parties")).list.len()
    jaccard = common / union
    same_order = pl.col("l_parties") == pl.col("r_parties")
    parties = (
        pl.when(union == 0)
        .then(None)
        .when(pl.col("table").is_in(list(directed)))
        .then(pl.when(same_order).then(1.0).otherwise(jaccard * 0.5))
        .otherwise(jaccard)
    )
    date = (
        pl.when(pl.col("l_date").is_null() | pl.col("r_date").is_null())
        .then(None)
        .when(_compatible(pl.col("l_date"), pl.col("r_date")))
        .then(1.0)
        .when(pl.col("l_date").str.slice(0, 4) == pl.col("r_date").str.slice(0, 4))
        .then(0.5)
        .otherwise(0.0)
    )
    place = (
        pl.when(pl.col("l_place").is_null() | pl.col("r_place").is_null())
        .then(None)
        .otherwise((pl.col("l_place") == pl.col("r_place")).cast(pl.Float64))
    )
    frame = frame.with_columns(parties.alias("parties"), date.alias("date"), place.alias("place"))
    features = list(WEIGHTS)
    weighted = pl.sum_horizontal([pl.col(f).fill_null(0.0) * WEIGHTS[f] for f in features])
    present = pl.sum_horizontal(
        [pl.col(f).is_not_null().cast(pl.Float64) * WEIGHTS[f] for f in features]
    )
    differ = (
        pl.col("l_kind").is_not_null()
        & pl.col("r_kind").is_not_null()
        & (pl.col("l_kind") != pl.col("r_kind"))
    )
    raw = pl.when(present > 0).then(weighted / present).otherwise(0.0)
    # a flow from another supplier, or to another recipient, is another flow, however alike
    # its goods: for directed tables the parties' score caps the whole score
    other_flow = pl.col("table").is_in(list(directed)) & (pl.col("parties") < 1.0)
    final = (
        pl.when(differ)
        .then(raw * KIND_PENALTY)
        .when(other_flow)
        .then(raw * pl.col("parties"))
        .otherwise(raw)
    )
    return frame.select("left", "right", "table", *features, final.round(4).alias("score")).sort(
        ["score", "left", "right"], descending=[True, False, False]
    )
