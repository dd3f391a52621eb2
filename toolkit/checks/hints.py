"""Hints that point at the mistake: the words a span changed against its closest passage.

Kept apart from the search for the passage (`toolkit.grounding.closest_passage`), which
it only reads: a grounding miss says "'circumstance' where the text has 'pageantry'"
instead of leaving the reader to compare two sentences word by word.
"""

from __future__ import annotations

import difflib

from toolkit.grounding import normalize

_PUNCT = "\"'.,;:!?()[]-…"
_MOST = 3  # differences named in one hint; a span that differs more is another passage
Op = tuple[str, int, int, int, int]


def _words(text: str) -> list[str]:
    return [w for w in normalize(text).split(" ") if w and w != "…"]


def _bare(words: list[str]) -> list[str]:
    return [w.strip(_PUNCT) for w in words]


def _quoted(words: list[str]) -> str:
    return "'" + " ".join(w for w in _bare(words) if w) + "'"


def _differences(wanted: list[str], found: list[str]) -> list[Op]:
    """The edit operations that are differences of the span from the passage.

    Before the first and after the last shared word only replaced words count: the
    passage's ends are where the search widened or cut it, not where the span differs.
    """
    matcher = difflib.SequenceMatcher(a=_bare(wanted), b=_bare(found), autojunk=False)
    ops = matcher.get_opcodes()
    shared = [i for i, op in enumerate(ops) if op[0] == "equal"]
    if not shared:
        return []
    return [
        op
        for i, op in enumerate(ops)
        if op[0] == "replace" or (op[0] != "equal" and shared[0] < i < shared[-1])
    ]


def word_difference(span: str, passage: str) -> str | None:
    """How `span` differs from `passage`, word by word, as a sentence ("'circumstance'
    where the text has 'pageantry'"); None when they share no word or do not differ.

    Words are compared after grounding's normalisation and without surrounding
    punctuation (a quotation mark is not a difference).
    """
    wanted, found = _words(span), _words(passage)
    said: list[str] = []
    for tag, a0, a1, b0, b1 in _differences(wanted, found):
        if tag == "replace":
            said.append(f"{_quoted(wanted[a0:a1])} where the text has {_quoted(found[b0:b1])}")
        elif tag == "delete":
            said.append(f"{_quoted(wanted[a0:a1])} where the text has nothing")
        else:
            said.append(f"the text has {_quoted(found[b0:b1])} after {_quoted(found[b0 - 1 : b0])}")
    if not said:
        return None
    more = len(said) - _MOST
    return "; ".join(said[:_MOST]) + (f" (and {more} more)" if more > 0 else "")


def _excerpt(span: str, passage: str, context: int = 4) -> str:
    """The passage cut to a few words either side of its first difference from the span."""
    wanted, found = _words(span), _words(passage)
    first = next(iter(_differences(wanted, found)), None)
    lo, hi = (first[3], first[4]) if first else (0, len(found))
    lo, hi = max(0, lo - context), min(len(found), max(hi, lo + 1) + context)
    return ("… " if lo else "") + " ".join(found[lo:hi]) + (" …" if hi < len(found) else "")


def grounding_hint(span: str, passage: str) -> str:
    """The hint of a span that does not occur in its text: the words that differ from the
    closest passage (the whole aligned passage), then that passage around them."""
    if not _words(passage):
        return "no passage of the text is close; copy the words from the text copy"
    difference = word_difference(span, passage)
    where = f"closest passage: '{_excerpt(span, passage)}'"
    return f"{difference}; {where}" if difference else where
