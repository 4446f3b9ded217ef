"""Signed webhooks: when a job with a ``callback_url`` ends, POST it there, retried with backoff.

The body is the job (the API's view of it); the header
``X-Cutlite-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` lets the receiver trust
it. Deliveries live in ``webhook_deliveries``: every attempt is recorded (and shown on the job), a
server that restarts goes on where it was, and with several servers one claims a delivery at a time.
Each attempt connects to the address ``targets.resolve`` checked; redirects are followed by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from typing import Any, Callable

from sqlalchemy import insert, select, update

from engines.database import get_engine
from engines.errors import CutliteError, ValidationError
from engines.settings import database_url

from .keys import utc_now
from .tables import webhook_deliveries
from .targets import TargetRefused, allow_list, resolve

log = logging.getLogger("cutlite.webhooks")

ENDED = ("COMPLETED", "FAILED", "CANCELED")
MAX_REDIRECTS = 3
TIMEOUT = 10.0
MAX_DELAY = 300.0


def sign(secret: bytes, body: bytes, t: int) -> str:
    digest = hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _setting(name: str, default: float, whole: bool = False) -> float:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValidationError([f"{name}: a positive {'whole ' if whole else ''}number (got {raw!r})"], stage="config")
    return value


def attempts_allowed() -> int:
    return int(_setting("CUTLITE_WEBHOOK_ATTEMPTS", 6, whole=True))


def backoff_seconds() -> float:
    return _setting("CUTLITE_WEBHOOK_BACKOFF", 2.0)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """One delivery attempt: the status of the final answer (``TargetRefused`` for a refused hop)."""
    import httpx

    allowed = allow_list()
    for _hop in range(MAX_REDIRECTS + 1):
        target = resolve(url, allowed)
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            resp = client.post(target.pinned_url(), content=body,
                               headers={**headers, "Host": target.host_header()},
                               extensions={"sni_hostname": target.host})
        if resp.is_redirect and "location" in resp.headers:
            url = str(httpx.URL(url).join(resp.headers["location"]))
            continue
        return resp.status_code
    raise TargetRefused(f"more than {MAX_REDIRECTS} redirects")


class Webhooks:
    """The delivery table and the thread that works through it."""

    def __init__(self, secret: bytes, job_view: Callable[[str, str, str], dict[str, Any]], *,
                 url: str | None = None, poll: float = 0.25) -> None:
        self.secret = secret
        self.job_view = job_view
        self.url = url or database_url()
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def engine(self):  # noqa: ANN201
        return get_engine(self.url)

    # ------------------------------------------------------------ the table

    def register(self, job_id: str, tenant: str, env: str, url: str) -> None:
        """The job's callback; the same job submitted again with another URL before it is sent keeps the newest."""
        with self.engine.begin() as conn:
            row = conn.execute(select(webhook_deliveries.c.done).where(webhook_deliveries.c.job_id == job_id)).first()
            if row is None:
                conn.execute(insert(webhook_deliveries).values(job_id=job_id, tenant=tenant, env=env, url=url,
                                                               state="pending", attempts=[], next_at=0.0,
                                                               lease_until=0.0, done=False))
            elif not row[0]:
                conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.job_id == job_id).values(url=url))

    def state_of(self, job_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.job_id == job_id)).mappings().first()
        if row is None:
            return None
        return {"url": row["url"], "state": row["state"], "attempts": list(row["attempts"] or [])}

    # ------------------------------------------------------------ the worker

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cutlite-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - the loop outlives a database hiccup; the next pass retries
                log.exception("webhook pass failed")

    def run_due(self) -> int:
        """One pass: every delivery that is due and whose job has ended; how many were attempted."""
        now = time.time()
        with self.engine.connect() as conn:
            due = conn.execute(select(webhook_deliveries).where(
                webhook_deliveries.c.done.is_(False), webhook_deliveries.c.next_at <= now,
                webhook_deliveries.c.lease_until < now).limit(20)).mappings().all()
        attempted = 0
        for row in due:
            try:
                view = self.job_view(row["job_id"], row["tenant"], row["env"])
            except CutliteError:
                view = None
            if view is None or view.get("state") not in ENDED or not self._claim(row["job_id"], now):
                continue
            self._attempt(dict(row), view)
            attempted += 1
        return attempted

    def _claim(self, job_id: str, now: float) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(webhook_deliveries).where(
                webhook_deliveries.c.job_id == job_id, webhook_deliveries.c.lease_until < now,
                webhook_deliveries.c.done.is_(False)).values(lease_until=now + TIMEOUT * (MAX_REDIRECTS + 2))
            ).rowcount == 1

    def _attempt(self, row: dict[str, Any], view: dict[str, Any]) -> None:
        view = {**view, "callback": None}  # the receiver gets the job, not its own delivery log
        body = json.dumps(view, sort_keys=True, default=str).encode()
        t = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "cutlite-webhooks/1",
                   "X-Cutlite-Event": f"job.{str(view['state']).lower()}", "X-Cutlite-Signature": sign(self.secret, body, t)}
        started = time.monotonic()
        status, error, refused = None, None, False
        try:
            status = post(row["url"], body, headers)
        except TargetRefused as exc:
            error, refused = f"refused: {exc}", True
        except Exception as exc:  # noqa: BLE001 - a network failure is an attempt that failed, and is retried
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = [*(row["attempts"] or []), {"at": utc_now(), "status": status, "error": error,
                                               "ms": round((time.monotonic() - started) * 1000)}]
        if status is not None and 200 <= status < 300:
            values: dict[str, Any] = {"state": "delivered", "done": True}
        elif refused:
            values = {"state": "refused", "done": True}
        elif len(attempts) >= attempts_allowed():
            values = {"state": "failed", "done": True}
        else:
            delay = min(MAX_DELAY, backoff_seconds() * 2 ** (len(attempts) - 1))
            values = {"state": "pending", "next_at": time.time() + delay}
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.job_id == row["job_id"])
                         .values(attempts=attempts, lease_until=0.0, **values))
