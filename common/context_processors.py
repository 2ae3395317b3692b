from typing import Any

from django.http import HttpRequest

from common.modules import MODULES
from governance.selectors import role_assignment_list_for_user


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page shell needs: the navigation and the signed-in user's primary role."""
    user = getattr(request, "user", None)
    primary = None
    if user is not None and user.is_authenticated:
        assignments = role_assignment_list_for_user(user=user)
        primary = assignments[0] if assignments else None
    return {"nav_modules": MODULES, "primary_role": primary}
