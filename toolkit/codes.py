"""The catalogue of problem codes: stable code, rule name, family, severity, template.

Codes never change meaning once released; the table in docs/codes.md is generated
from this catalogue (toolkit/codes_page.py) and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Family = Literal[
    "parse",
    "limits",
    "schema",
    "identity",
    "references",
    "vocabularies",
    "consistency",
    "grounding",
    "safety",
]


@dataclass(frozen=True, slots=True)
class CodeSpec:
    code: str
    name: str
    family: Family
    severity: Literal["error", "warning"]
    title: str
    template: str

    def render(self, **params: Any) -> str:
        return self.template.format(**params)


def _c(code: str, name: str, family: Family, severity: str, title: str, template: str) -> CodeSpec:
    assert severity in ("error", "warning")
    return CodeSpec(code, name, family, severity, title, template)  # type: ignore[arg-type]


# fmt: off
_ALL = [
    # parse: the file cannot be read as the format its name says
    _c("P001", "unreadable-file", "parse", "error", "File cannot be read",
       "cannot read file: {reason}"),
    _c("P002", "bad-encoding", "parse", "error", "Not UTF-8",
       "file is not valid UTF-8: {reason}"),
    _c("P003", "byte-order-mark", "parse", "warning", "Byte-order mark",
       "file starts with a {bom} byte-order mark"),
    _c("P004", "control-character", "parse", "error", "Control character",
       "file contains a {what} character"),
    _c("P005", "empty-file", "parse", "error", "Empty file",
       "file is empty"),
    _c("P010", "syntax-error", "parse", "error", "Syntax error",
       "{format} syntax error: {reason}"),
    _c("P011", "duplicate-key", "parse", "error", "Duplicate key",
       "key '{key}' appears twice in the same mapping (first at line {first_line})"),
    _c("P012", "yaml-alias", "parse", "error", "YAML anchor or alias",
       "YAML anchors and aliases are not allowed ({what})"),
    _c("P013", "yaml-tag", "parse", "error", "YAML tag",
       "YAML tag '{tag}' is not allowed"),
    _c("P014", "yaml-merge-key", "parse", "error", "YAML merge key",
       "YAML merge keys ('<<') are not allowed"),
    _c("P015", "multiple-documents", "parse", "error", "Several YAML documents",
       "a bundle file holds one YAML document; found another here"),
    _c("P016", "not-an-object", "parse", "error", "Top level is not an object",
       "the top level must be a mapping/object, found {found}"),
    _c("P017", "non-finite-number", "parse", "error", "NaN or Infinity",
       "'{token}' is not a JSON number"),
    _c("P018", "number-out-of-range", "parse", "error", "Number out of range",
       "number {token} does not fit a 64-bit integer or double"),
    _c("P019", "ambiguous-scalar", "parse", "warning", "YAML 1.1 scalar",
       "unquoted '{value}' is read as the text '{value}'; YAML 1.1 tools read it as {other}"),
    _c("P020", "blank-line", "parse", "warning", "Blank JSONL line",
       "blank line in a JSONL file"),
    _c("P021", "non-string-key", "parse", "error", "Key is not a string",
       "mapping key {key} is not a string"),
    # limits: documented bounds that keep a run fast and small
    _c("L001", "file-too-large", "limits", "error", "File too large",
       "file is {size} bytes; the limit is {limit}"),
    _c("L002", "too-deep", "limits", "error", "Nesting too deep",
       "nesting is deeper than {limit} levels"),
    _c("L003", "string-too-long", "limits", "error", "String too long",
       "string of {length} characters; the limit is {limit}"),
    _c("L004", "too-many-facts", "limits", "error", "Too many facts",
       "bundle holds {count} facts; the limit is {limit}"),
    _c("L005", "line-too-long", "limits", "error", "JSONL line too long",
       "line is {size} bytes; the limit is {limit}"),
    _c("L006", "text-too-large", "limits", "error", "Text copy too large",
       "text copy '{path}' is {size} bytes; the limit is {limit}"),
    _c("L007", "too-many-problems", "limits", "error", "Too many problems",
       "more than {limit} problems in this file; the rest of it is not reported"),
    _c("L008", "too-many-values", "limits", "error", "Too many values",
       "file holds more than {limit} values and keys; the rest of it is not read"),
    _c("S100", "schema-violation", "schema", "error", "Schema violation",
       "{reason}"),
    _c("S101", "missing-field", "schema", "error", "Missing field",
       "required field '{field}' is missing"),
    _c("S102", "unknown-field", "schema", "error", "Unknown field",
       "unknown field '{field}'"),
    _c("S103", "wrong-type", "schema", "error", "Wrong type",
       "expected {expected}, found {found}"),
    _c("S104", "not-allowed", "schema", "error", "Value not allowed",
       "'{value}' is not one of: {allowed}"),
    _c("S105", "bad-format", "schema", "error", "Bad format",
       "'{value}' is not {expected}"),
    _c("S106", "out-of-range", "schema", "error", "Out of range",
       "{value} is out of range: {reason}"),
    _c("S107", "bad-size", "schema", "error", "Wrong size",
       "{reason}"),
    _c("S108", "invalid-date", "schema", "error", "Invalid date",
       "'{value}' is not a date on the calendar"),
    _c("S109", "old-format", "schema", "error", "Old bundle format",
       "this bundle is format {found}; factkit reads format {current}"),
    # identity: ids unique in their scope
    _c("I201", "duplicate-fact-id", "identity", "error", "Duplicate fact id",
       "fact id '{id}' is used {count} times in this bundle"),
    _c("I202", "duplicate-source-id", "identity", "error", "Duplicate source id",
       "source id '{id}' is also used in {other}"),
    _c("I203", "duplicate-actor-id", "identity", "error", "Duplicate actor id",
       "actor id '{id}' is also defined in {other}"),
    _c("I204", "actor-file-name", "identity", "warning", "Actor file name",
       "actor '{id}' is stored in a file named '{name}'"),
    _c("I205", "near-duplicate-id", "identity", "error", "Ids differ only in case or form",
       "id '{id}' differs from '{other}' only in case, Unicode form or look-alike letters"),
    _c("I206", "self-judgement", "identity", "error", "Record judged against itself",
       "'{ref}' is judged against itself"),
    _c("I207", "repeated-judgement", "identity", "warning", "Pair judged again",
       "this pair is also judged {judgement} at {other}"),
    # references: every reference resolves, across files
    _c("R301", "unknown-actor", "references", "error", "Unknown actor",
       "actor '{ref}' is neither in the registry nor an ISO 3166-1 alpha-3 code"),
    _c("R302", "unknown-statement", "references", "error", "Unknown statement",
       "statement '{ref}' does not exist"),
    _c("R303", "unknown-same-as", "references", "error", "same_as names nothing",
       "same_as '{ref}' names no {row} in the dataset"),
    _c("R304", "self-reference", "references", "error", "Refers to itself",
       "'{ref}' refers to the fact itself"),
    _c("R305", "missing-text", "references", "error", "Text copy missing",
       "text copy '{path}' does not exist"),
    _c("R306", "unknown-country", "references", "error", "Unknown country",
       "'{ref}' is not an ISO 3166-1 alpha-3 country code"),
    _c("R307", "unknown-agreement", "references", "error", "Unknown agreement",
       "agreement '{ref}' does not exist"),
    _c("R308", "unknown-fact", "references", "error", "Unknown fact",
       "fact '{ref}' does not exist"),
    _c("R311", "unknown-judged-record", "references", "error", "Judgement names nothing",
       "'{ref}' is no fact or registry actor in the dataset"),
    _c("R312", "judged-across-kinds", "references", "error", "Records of two kinds judged",
       "'{left}' is {left_row} but '{right}' is {right_row}: only records of one kind "
       "can be the same"),
    _c("V401", "unknown-code", "vocabularies", "error", "Not in vocabulary",
       "'{value}' is not a code of vocabulary '{vocabulary}'"),
    _c("V402", "unknown-language", "vocabularies", "error", "Unknown language",
       "'{value}' is not an ISO 639-1 language code"),
    # consistency: facts that contradict themselves or their source
    _c("C501", "supplier-is-recipient", "consistency", "error", "Supplier is recipient",
       "supplier and recipient are both '{actor}'"),
    _c("C502", "quote-without-text", "consistency", "error", "Quote without text",
       "a {mode} needs the quoted words in 'text'"),
    _c("C503", "date-after-publication", "consistency", "error", "Date after publication",
       "{field} {value} is later than the source's publication ({published})"),
    _c("C504", "signatory-without-party", "consistency", "error", "Signatory for no party",
       "signatory '{actor}' is not a party and acts for none of the parties"),
    _c("C505", "duplicate-entry", "consistency", "error", "Listed twice",
       "'{actor}' is listed twice in {field}"),
    _c("C506", "size-below-members", "consistency", "warning", "Size below members",
       "size {size} is smaller than the {members} members listed"),
    _c("C507", "unattributed-statement", "consistency", "error", "Statement without speaker",
       "a statement needs 'speakers', a 'speaker_role' or a 'speaker_group'"),
    _c("C508", "in-force-before-signature", "consistency", "error",
       "Entry into force before signature",
       "entry into force ({value}) is dated before the signature ({signed})"),
    _c("C509", "steps-out-of-order", "consistency", "error", "Agreement steps out of order",
       "{action} ({value}) is dated before the {earlier} ({earlier_date})"),
    _c("C510", "supersedes-newer", "consistency", "error", "Supersedes a newer agreement",
       "this agreement (signed {value}) {relation} '{ref}', signed later ({other_date})"),
    _c("C511", "same-as-cycle", "consistency", "error", "same_as cycle",
       "same_as '{ref}' leads back to this fact"),
    _c("C512", "same-as-same-source", "consistency", "error", "same_as within one source",
       "same_as '{ref}' names a fact of the same source"),
    _c("C513", "status-contradicts-actions", "consistency", "error",
       "Status contradicted by actions",
       "status '{status}' contradicts the recorded {action} action"),
    _c("C514", "weekday-mismatch", "consistency", "error", "Weekday does not match the date",
       "'{words}' names a {named}, but {value} is a {weekday}"),
    _c("C530", "conflicting-judgements", "consistency", "error", "Pair judged both ways",
       "this pair is judged {judgement} here but {other_judgement} at {other}"),
    _c("C531", "different-in-one-cluster", "consistency", "error", "Different, yet one cluster",
       "'{left}' and '{right}' are judged different, but same_as links and 'same' judgements "
       "join them in cluster {cluster}"),
    _c("C532", "cluster-disagreement", "consistency", "warning", "Reports disagree",
       "{field} is {value} here but {other_value} at {other} (the same {row}: cluster {cluster})"),
    # grounding: facts tied to the words they came from
    _c("G601", "evidence-not-in-text", "grounding", "error", "Evidence not in text",
       "evidence does not occur in the source text"),
    _c("G602", "quote-not-in-text", "grounding", "error", "Quote not in text",
       "the quoted text does not occur in the source text"),
    _c("G603", "model-fact-without-evidence", "grounding", "error", "Model fact without evidence",
       "a fact extracted by {method} needs 'evidence'"),
    _c("G604", "ungroundable", "grounding", "warning", "Cannot ground",
       "source has no text copy, so {count} machine-extracted facts cannot be grounded"),
    _c("G605", "attribution-elsewhere", "grounding", "error", "Attribution to another source",
       "'{ref}' is a statement of another source"),
    _c("G606", "possible-duplicate", "grounding", "warning", "Possible duplicate",
       "the same {what} is also entered at {other}"),
    _c("G607", "model-fact-without-confidence", "grounding", "error",
       "Model fact without confidence", "a fact extracted by {method} needs 'confidence'"),
    _c("G608", "attribution-without-speaker", "grounding", "error", "Attribution without speaker",
       "'{ref}' names no speaker, so the fact is attributed to no one"),
    _c("G609", "wording-not-in-text", "grounding", "error", "Wording not in text",
       "the source's wording does not occur in the source text"),
    # safety: input that could mislead a reader or reach outside the dataset
    _c("X701", "path-outside-data", "safety", "error", "Path leaves the data folder",
       "'{path}' resolves outside the data folder"),
    _c("X702", "not-a-regular-file", "safety", "error", "Not a regular file",
       "'{path}' is not a regular file ({what})"),
    _c("X703", "text-not-utf8", "safety", "error", "Text copy not UTF-8",
       "text copy '{path}' is not UTF-8 text"),
    _c("X704", "invisible-character", "safety", "error", "Invisible or bidi character",
       "{what} U+{codepoint} in {field}"),
    _c("X705", "symlink-out-of-tree", "safety", "error", "Symlink out of tree",
       "'{path}' is a link to outside the data folder"),
]
# fmt: on

CODES: dict[str, CodeSpec] = {spec.code: spec for spec in _ALL}
assert len(CODES) == len(_ALL), "duplicate problem code"
