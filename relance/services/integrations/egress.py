"""Outgoing HTTP to an address a user typed (a webhook endpoint), guarded against SSRF.

A name is resolved by relance itself and every address it resolves to must be public: loopback,
private (RFC 1918, fc00::/7), link-local (169.254/16 with the clouds' metadata service,
fe80::/10), shared (CGNAT 100.64/10), multicast, unspecified, reserved and documentation
addresses are refused, including an IPv4 address wrapped in IPv6 (::ffff:127.0.0.1, 6to4, NAT64)
and the decimal or octal spellings (http://2130706433/) that resolve to loopback. The post then
connects to the very address that was checked, so a DNS answer that changes between the check
and the connection (rebinding) changes nothing, while the Host header and TLS (SNI and the
certificate's name) keep the hostname of the URL. Redirects are never followed.

An operator lets on-premise receivers in with RELANCE_WEBHOOK_ALLOW: comma-separated host names
(allowed whatever they resolve to) and/or addresses and CIDR networks, e.g.
"receiver.internal,10.0.0.0/8,127.0.0.1"."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests.certs
import urllib3
from django.conf import settings

from relance.domain.errors import RelanceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, not in is_private
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # an IPv4 address behind a NAT64 gateway
HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")
DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(RelanceError):
    """The URL's host is, or resolves to, an address that is not public nor allowed."""


class HostNotFound(RelanceError):
    """The URL's host name does not resolve (or the URL has no usable host or port)."""


class AllowListInvalid(RelanceError, ValueError):
    """RELANCE_WEBHOOK_ALLOW holds something that is neither a host name nor a network."""


@dataclass(frozen=True)
class Target:
    """Where to post: the URL's parts and the addresses checked, to connect to one of them."""

    scheme: str
    host: str  # as in the URL, lowercase, without brackets
    port: int
    path: str  # path and query
    host_header: str
    addresses: tuple[str, ...]
    username: str | None = None
    password: str | None = None


def allowance() -> tuple[frozenset[str], tuple[Network, ...]]:
    """The host names and networks the operator allows, from RELANCE_WEBHOOK_ALLOW."""
    raw = getattr(settings, "RELANCE_WEBHOOK_ALLOW", "") or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    hosts: set[str] = set()
    networks: list[Network] = []
    for item in (str(i).strip().lower() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = item.rstrip(".")
        if "/" in name or not HOST_NAME.fullmatch(name):
            raise AllowListInvalid(
                f"RELANCE_WEBHOOK_ALLOW: '{item}' is neither a host name nor an address or network"
            )
        hosts.add(name)
    return frozenset(hosts), tuple(networks)


def _unwrapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def public(ip: IPAddress) -> bool:
    """Whether relance may post to this address without the operator's say-so."""
    inner = _unwrapped(ip)
    if inner is not ip:  # judged by the IPv4 address it reaches
        return public(inner)
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED)
        or (isinstance(ip, ipaddress.IPv6Address) and (ip.is_site_local or ip.teredo))
    ):
        return False
    return ip.is_global


def _allowed(ip: IPAddress, networks: tuple[Network, ...]) -> bool:
    candidates = {ip, _unwrapped(ip)}
    return any(c.version == n.version and c in n for c in candidates for n in networks)


def resolve(url: str) -> Target:
    """The URL's host resolved now, every address checked: AddressRefused if one of them is not
    public nor allowed, HostNotFound if the name does not resolve."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise AddressRefused(url)
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise HostNotFound(url) from exc
    host = parts.hostname  # lowercase, brackets removed
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostNotFound(url) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise HostNotFound(url)
    hosts, networks = allowance()
    if host.rstrip(".") not in hosts:
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError as exc:  # e.g. an IPv6 address with a zone: link-local
                raise AddressRefused(url) from exc
            if not (public(ip) or _allowed(ip, networks)):
                raise AddressRefused(url)
    shown = f"[{host}]" if ":" in host else host
    return Target(
        scheme=scheme,
        host=host,
        port=port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        host_header=shown if parts.port in (None, DEFAULT_PORTS[scheme]) else f"{shown}:{port}",
        addresses=addresses,
        username=parts.username,
        password=parts.password,
    )


def check(url: str) -> None:
    """At registration: AddressRefused if the URL points to a non-public address. A name that
    does not resolve (yet) passes: every delivery resolves and checks it again."""
    with contextlib.suppress(HostNotFound):
        resolve(url)


def post(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    *,
    connect_timeout: float,
    total_timeout: float,
) -> int:
    """POST `body` to one of the target's checked addresses (the next one only when the
    connection itself fails at once) and answer the status, without reading the answer's body
    nor following a redirect. Raises urllib3's errors (timeouts, connection failures)."""
    sent = {**headers, "Host": target.host_header}
    if target.username is not None:
        auth = f"{target.username}:{target.password or ''}"
        sent.update(urllib3.util.make_headers(basic_auth=auth))
    timeout = urllib3.Timeout(connect=connect_timeout, read=total_timeout, total=total_timeout)
    failure: Exception | None = None
    for address in target.addresses:
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                server_hostname=target.host,  # SNI and the certificate's name: the URL's host
                cert_reqs="CERT_REQUIRED",
                # requests' trust store, or the operator's (an internal CA), as before
                ca_certs=os.environ.get("REQUESTS_CA_BUNDLE") or requests.certs.where(),
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                address, target.port, timeout=timeout, retries=False, maxsize=1
            )
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=sent,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
            )
            status = int(response.status)
            response.close()  # the body is never read
            return status
        except urllib3.exceptions.NewConnectionError as exc:  # refused, unreachable: next one
            failure = exc
        finally:
            pool.close()
    assert failure is not None
    raise failure
