"""Hadoop's refusal of an impersonation, read from whatever reported it (an RPC
exception in the client JVM, a 403 of the ResourceManager's REST API) and turned into
one :class:`~knit.exceptions.ImpersonationError` naming the settings that allow it."""

from __future__ import annotations

import re

from .exceptions import ImpersonationError

#: Hadoop's words (ProxyUsers): the service's user, the user it asked to act as.
_REFUSED = re.compile(r"User: (\S+) is not allowed to impersonate (\S+)")


def refusal(text: str) -> ImpersonationError | None:
    """The error for ``text`` if it is Hadoop refusing an impersonation, else None."""
    found = _REFUSED.search(text)
    if not found:
        return None
    service, user = found.group(1), found.group(2)
    short = service.split("@")[0].split("/")[0]
    return ImpersonationError(
        f"the cluster does not let {service} act as {user}: allow it in core-site.xml of "
        f"the NameNodes and ResourceManagers with hadoop.proxyuser.{short}.hosts (this "
        f"host) and hadoop.proxyuser.{short}.users or .groups (naming {user} or a group of "
        "theirs), then refresh them (`hdfs dfsadmin -refreshSuperUserGroupsConfiguration`, "
        "`yarn rmadmin -refreshSuperUserGroupsConfiguration`); nothing was submitted")
