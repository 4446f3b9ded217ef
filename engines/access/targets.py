"""Where a webhook may be sent: http(s) URLs whose every address is public, unless allowed.

Loopback, private, link-local (169.254.0.0/16: the cloud metadata endpoints), shared, multicast,
reserved and unspecified addresses are refused unless ``CUTLITE_WEBHOOK_ALLOW`` lists them
(comma-separated networks or addresses). The host is resolved here, and the caller connects to
the address that was checked, so a second DNS answer cannot send the request elsewhere.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from engines.errors import ValidationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(Exception):
    """The URL may not be called: its message says why (shown on the job's callback attempts)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str        # as written in the URL (the Host header and the TLS server name)
    port: int
    address: Address  # where the connection goes: checked, never resolved again

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    def host_header(self) -> str:
        default = {"http": 80, "https": 443}[self.scheme]
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def allow_list() -> list[Network]:
    nets = []
    for item in (os.environ.get("CUTLITE_WEBHOOK_ALLOW") or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValidationError([f"CUTLITE_WEBHOOK_ALLOW: {item!r} is not an address or a network"],
                                  stage="config") from None
    return nets


def is_public(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return is_public(mapped)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local)


def resolve(url: str, allowed: list[Network] | None = None) -> Target:
    """The checked target of ``url``, or ``TargetRefused`` saying what is wrong with it."""
    allowed = allow_list() if allowed is None else allowed
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs are called (got {parts.scheme or 'none'!r})")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not sent")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the URL's port is not a number from 0 to 65535") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"the host {parts.hostname!r} does not resolve ({exc})") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:  # every answer: one private address refuses the whole name
        if not is_public(address) and not any(address in net for net in allowed):
            raise TargetRefused(f"the host {parts.hostname!r} resolves to {address}, a loopback, private or "
                                "link-local address (allow it with CUTLITE_WEBHOOK_ALLOW)")
    return Target(url, parts.scheme, parts.hostname, port, addresses[0])


def check_callback_url(url: str) -> None:
    """A submission's ``callback_url``: refused at once (400, naming the field) when it cannot be called."""
    if len(url) > 2048:
        raise ValidationError(["callback_url: longer than 2048 characters"], stage="request")
    try:
        resolve(url)
    except TargetRefused as exc:
        raise ValidationError([f"callback_url: {exc}"], stage="request",
                              hint="use a public http(s) URL; private targets need CUTLITE_WEBHOOK_ALLOW") from None
