"""Object-level grants (django-guardian) with direct foreign keys, for the sparse exceptions to region
scope (design.md §3): e.g. an enterprise Party secretary who sees one enterprise branch but no region.

Direct FK rows are indexed joins and vanish with their object (CASCADE); guardian's generic rows keep
the id as text and would outlive it. Later apps add their own pairs the same way (a store, a canteen,
a case handed to a mediator).
"""

from __future__ import annotations

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from governance.models.party import PartyOrganisation


class PartyOrganisationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(PartyOrganisation, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class PartyOrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(PartyOrganisation, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
