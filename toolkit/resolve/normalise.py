"""Names made comparable, as polars expressions (one pass over a column, no Python per row).

"Kim Jong-un", "KIM Jong Un" and "Kim Jong‐un" become "jong kim un"; "Treaty on
Comprehensive Strategic Partnership" and "comprehensive strategic partnership agreement"
become "comprehensive partnership strategic". Steps: Unicode compatibility form without
accents, case folded; hyphens, dashes and punctuation made spaces; synonyms of one word
made that word; stop words dropped; tokens sorted, so word order does not count.
"""

from __future__ import annotations

import polars as pl

# Words that name the same kind of instrument or thing in titles (after the UN Treaty
# Collection's types: the form is the agreement's `kind`, not part of its name).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "agreement": ("treaty", "pact", "accord", "accords", "agreements", "treaties", "deal"),
    "dprk": ("north korea", "democratic people s republic of korea", "n korea"),
    "russia": ("russian federation",),
    "cooperation": ("co operation",),
}
# Stop words, and the instrument word itself: it says which form the agreement takes (its
# `kind`), not which agreement it is, and would make every treaty resemble every other.
_WORDS = (
    "a an the of on in and or for to by with between among at from its their this that "
    "new signed landmark so called agreement"
)
STOP_WORDS = frozenset(_WORDS.split(" "))
_PUNCTUATION = r"[\p{Pd}\p{Pc}\p{Po}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{S}]"


def normalise(text: pl.Expr) -> pl.Expr:
    """Tokens of a name, normalised and sorted, joined by one space ('' for no tokens)."""
    folded = (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(_PUNCTUATION, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    for canon, variants in SYNONYMS.items():
        pattern = r"\b(?:" + "|".join(v.replace(" ", r"\s") for v in variants) + r")\b"
        folded = folded.str.replace_all(pattern, canon)
    tokens = folded.str.split(" ").list.eval(
        pl.element().filter((pl.element() != "") & ~pl.element().is_in(list(STOP_WORDS)))
    )
    return tokens.list.sort().list.join(" ")
