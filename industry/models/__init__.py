"""industry: chains and the businesses on them, households' projects and residents' work, the village
collective economy, joint building, featured towns and development types, expos and festivals with their
exhibitors, products and sales, and tourism figures."""

from industry.models.chains import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    Employment,
    EmploymentKind,
    HouseholdProject,
    IndustryChain,
    LinkKind,
    ProjectKind,
)
from industry.models.economy import CollectiveIncome, CollectiveThreshold, IncomeSource
from industry.models.events import (
    Event,
    EventGroupObjectPermission,
    EventKind,
    EventUserObjectPermission,
    Exhibitor,
    Product,
    ProductCategory,
    SalesChannel,
    SalesRecord,
    SalesSource,
    TourismRecord,
)
from industry.models.imports import SalesImportJob, SalesImportStatus
from industry.models.joint import JointCommunity, JointKind, JointMember, JointResult
from industry.models.places import DesignationKind, DevelopmentType, RegionDesignation
from industry.models.sales_rollup import SalesRollup, SalesRollupGrain

__all__ = [
    "Business",
    "BusinessKind",
    "ChainLink",
    "ChainParticipation",
    "CollectiveIncome",
    "CollectiveThreshold",
    "DesignationKind",
    "DevelopmentType",
    "Employment",
    "EmploymentKind",
    "Event",
    "EventGroupObjectPermission",
    "EventKind",
    "EventUserObjectPermission",
    "Exhibitor",
    "HouseholdProject",
    "IncomeSource",
    "IndustryChain",
    "JointCommunity",
    "JointKind",
    "JointMember",
    "JointResult",
    "LinkKind",
    "Product",
    "ProductCategory",
    "ProjectKind",
    "RegionDesignation",
    "SalesChannel",
    "SalesImportJob",
    "SalesImportStatus",
    "SalesRecord",
    "SalesRollup",
    "SalesRollupGrain",
    "SalesSource",
    "TourismRecord",
]
