"""Authenticate every request and enforce the route's declared requirement.

The requirement comes from the handler (`contract.anonymous` / `authenticated` /
`admin_required` / `superadmin_required`; undecorated means authenticated). Anonymous routes
ignore credentials entirely. Unmatched paths (404/405) pass through so the client gets the
routing error, not an auth error. `request[CALLER_KEY]` is always set.
"""

from __future__ import annotations

from aiohttp import web

from reference_host.auth import problems
from reference_host.contract import CALLER_KEY, AuthRequirement, Role, auth_requirement_of
from reference_host.keys import AUTHENTICATOR_KEY

_ADMIN_ROLES = frozenset({Role.ADMIN, Role.SUPERADMIN})


async def authorize_request(request: web.Request) -> None:
    """Set `request[CALLER_KEY]`; raise the 400/401/403 problem the request deserves."""
    match_info = request.match_info
    if match_info.http_exception is not None:
        request[CALLER_KEY] = None
        return
    requirement = auth_requirement_of(match_info.handler)
    if requirement is AuthRequirement.ANONYMOUS:
        request[CALLER_KEY] = None
        return
    caller = await request.app[AUTHENTICATOR_KEY].authenticate(request)
    request[CALLER_KEY] = caller
    if caller is None:
        raise problems.unauthorized()
    if requirement is AuthRequirement.ADMIN and caller.role not in _ADMIN_ROLES:
        raise problems.forbidden()
    if requirement is AuthRequirement.SUPERADMIN and caller.role is not Role.SUPERADMIN:
        raise problems.forbidden()
