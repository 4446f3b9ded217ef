"""Who holds a lease or a job: ``host:pid:token`` names that tell a dead local owner at once."""

from __future__ import annotations

import os
import socket
import uuid


def lease_owner() -> str:
    """``host:pid:token``: lets a lease held by a dead process on this host be taken over at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only its lease's expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
