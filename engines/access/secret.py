"""The server secret that signs download URLs, studio cookies and webhooks: ``CUTLITE_SECRET``.

Outside ``prod`` a missing secret is made once and kept in ``CUTLITE_HOME/secret`` (mode 0600), so
every server sharing the state folder signs alike; ``prod`` refuses to run without the variable
(a secret on the same disk as the data would be read with it).
"""

from __future__ import annotations

import os
import secrets

from engines.errors import ValidationError
from engines.settings import home

MIN_LENGTH = 32


def server_secret(env: str = "dev") -> bytes:
    value = os.environ.get("CUTLITE_SECRET") or ""
    if value:
        if len(value) < MIN_LENGTH:
            raise ValidationError([f"CUTLITE_SECRET: at least {MIN_LENGTH} characters (got {len(value)})"],
                                  stage="config")
        return value.encode()
    if env == "prod":
        raise ValidationError(["CUTLITE_SECRET: required when the server runs as prod"], stage="config",
                              hint="set CUTLITE_SECRET to 32 or more random characters, the same on every server")
    path = home() / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # the first server to get here wins; the others read its secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()
