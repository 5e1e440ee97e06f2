"""Record kinds and their canonical fields (DESIGN.md, "Source registry").

Every kind also takes ``record_key`` and ``change`` and identifies its entity by any of
``uscc``, ``reg_no``, ``org_code`` and ``name``; the national 双公示 layouts add the other
identifier columns (tax number and the rest), kept as ``tax_no``, ``inst_cert_no`` and
``social_org_no``.
"""

from __future__ import annotations

from dataclasses import dataclass

IDENTITY_FIELDS = ("uscc", "reg_no", "org_code", "name")
COMMON_FIELDS = ("record_key", "change") + IDENTITY_FIELDS + ("tax_no", "inst_cert_no", "social_org_no")


@dataclass(frozen=True)
class Kind:
    """A kind of record: its own fields and the ones a source must map."""

    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    is_list: bool = False

    @property
    def all_fields(self) -> tuple[str, ...]:
        """Every canonical field a source of this kind may map."""
        return COMMON_FIELDS + self.fields


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("registration", ("entity_type", "status", "legal_rep", "registered_capital",
                              "established_on", "address", "reg_authority", "industry",
                              "former_names"), required=("name",)),
        Kind("licence", ("decision_no", "licence_type", "licence_name", "licence_no", "content",
                         "decided_on", "valid_from", "valid_to", "authority", "authority_code",
                         "status", "legal_rep"), required=("decided_on",)),
        Kind("penalty", ("decision_no", "violation_type", "facts", "basis", "penalty_type",
                         "content", "fine_amount", "confiscated_amount", "decided_on",
                         "valid_until", "publicity_until", "authority", "authority_code",
                         "severity", "legal_rep"), required=("decision_no", "decided_on")),
        Kind("abnormal", ("reason_code", "reason", "listed_on", "listed_by", "decision_no",
                          "removal_reason", "removed_on", "removed_by"),
             required=("listed_on",), is_list=True),
        Kind("serious_illegal", ("category", "reason", "listed_on", "listed_by", "decision_no",
                                 "removal_reason", "removed_on", "removed_by"),
             required=("listed_on",), is_list=True),
        Kind("sector_list", ("reason", "listed_on", "listed_by", "expires_on", "removal_reason",
                             "removed_on", "removed_by"), required=("listed_on",), is_list=True),
        Kind("inspection", ("plan", "task", "inspection_type", "authority", "inspected_on", "item",
                            "result"), required=("inspected_on", "result")),
        Kind("annual_report", ("year", "filed_on"), required=("year",)),
        Kind("commendation", ("title", "listed_on", "listed_by", "expires_on"),
             required=("title",)),
    )
}

# Fields by their type, for the normalisation steps and the load schemas.
DATE_FIELDS = frozenset({
    "established_on", "decided_on", "valid_from", "valid_to", "valid_until", "publicity_until",
    "listed_on", "removed_on", "expires_on", "inspected_on", "filed_on",
})
AMOUNT_FIELDS = frozenset({"registered_capital", "fine_amount", "confiscated_amount"})
