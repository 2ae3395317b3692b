"""points: the 百分奖 rules catalog, awards under public notice, the double-entry ledger, stores, stock and
redemption days, evaluations."""

from points.models.awards import Award, AwardPhoto, AwardStatus, Objection, ObjectionStatus
from points.models.evaluations import Evaluation, EvaluationStatus, Nomination, NominationStatus, Vote
from points.models.ledger import (
    Account,
    AccountKind,
    LedgerCheck,
    LedgerTransaction,
    Posting,
    TransactionKind,
)
from points.models.rules import CapPeriod, ExpiryMode, Rule, RuleCategory, TownshipPolicy
from points.models.stores import (
    DayStatus,
    Item,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    StockKind,
    StockMovement,
    Store,
    StoreGroupObjectPermission,
    StoreUserObjectPermission,
)

__all__ = [
    "Account",
    "AccountKind",
    "Award",
    "AwardPhoto",
    "AwardStatus",
    "CapPeriod",
    "DayStatus",
    "Evaluation",
    "EvaluationStatus",
    "ExpiryMode",
    "Item",
    "LedgerCheck",
    "LedgerTransaction",
    "Nomination",
    "NominationStatus",
    "Objection",
    "ObjectionStatus",
    "Posting",
    "Redemption",
    "RedemptionDay",
    "RedemptionLine",
    "RedemptionReturn",
    "Rule",
    "RuleCategory",
    "StockKind",
    "StockMovement",
    "Store",
    "StoreGroupObjectPermission",
    "StoreUserObjectPermission",
    "TownshipPolicy",
    "TransactionKind",
    "Vote",
]
