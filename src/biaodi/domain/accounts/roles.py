"""Who may do what: the roles of the platform's parties and staff."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INVESTOR = "investor"  # 出借人
    BORROWER = "borrower"  # 借款人
    GUARANTOR = "guarantor"  # 担保方
    ORIGINATOR = "originator"  # 债权出让方 (流转标)
    OPERATOR = "operator"
    RISK_OFFICER = "risk_officer"
    AUDITOR = "auditor"
    #: May approve a listing whose applicant has no valid risk decision, with a reason kept in
    #: the listing's history (a permission held besides operator, never instead of it).
    RISK_OVERRIDE = "risk_override"


#: Roles a person may choose when registering; staff roles are granted by an operator.
SELF_SERVICE_ROLES = frozenset({Role.INVESTOR, Role.BORROWER, Role.GUARANTOR, Role.ORIGINATOR})
STAFF_ROLES = frozenset({Role.OPERATOR, Role.RISK_OFFICER, Role.AUDITOR, Role.RISK_OVERRIDE})
