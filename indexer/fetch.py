"""Fetching catalog photos by URL without letting a catalog reach hosts it should not (SSRF).

Rules (`FetchPolicy`):

- only ``http``/``https``; the host's addresses are resolved here and EVERY one must be allowed:
  loopback, link-local, private (RFC 1918, ULA, CGNAT), multicast, unspecified and reserved
  addresses are refused (also when an IPv6 address carries one: IPv4-mapped, 6to4, Teredo, NAT64)
  unless ``allow_private_hosts`` (private, loopback and link-local) or the host is in
  ``allowed_hosts`` (a name, an IP or a CIDR network); multicast, unspecified and reserved are
  never fetched;
- DNS rebinding: the request connects to the very IP that was checked (the URL's host is
  replaced by that IP, the ``Host`` header and the TLS SNI/certificate name stay the
  original host), so a second DNS answer cannot point the connection elsewhere;
- redirects are followed by hand, at most ``max_redirects``, each target checked again;
- at most ``max_bytes`` of (decoded) body, enforced while streaming (``Content-Length`` first);
- retried only on timeouts, connection errors and 5xx answers, never on 4xx or a refusal, and all
  tries together within ``deadline_s``;
- environment proxies are ignored (a proxy would make the address check meaningless).

Every failure is a `FetchError` whose message is the reason recorded for the photo.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 2
DEFAULT_MAX_REDIRECTS = 3
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_DEADLINE_S = 60.0
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ALLOW_HINT = "pass --allow-private-hosts or --allowed-hosts HOST to fetch from it"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class FetchError(OSError):
    """A photo URL could not (or may not) be fetched; the message is the reason."""


class RetryableFetchError(FetchError):
    """A timeout, connection error or 5xx: worth another try."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RetryableFetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    except (UnicodeError, ValueError) as exc:  # e.g. an IDNA label over 63 characters
        raise FetchError(f"refused: invalid host name {host[:80]!r} ({exc})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix: the last 32 bits are IPv4


def embedded_ipv4(ip: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address stands for, which a relay or translator on the path would reach:
    6to4 (``2002:7f00:1::`` is 127.0.0.1), Teredo (server and client) and NAT64 (``64:ff9b::7f00:1``)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    found = [ip.sixtofour, *(ip.teredo or ())]
    if ip in NAT64_PREFIX:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return tuple(a for a in found if a is not None)


def _own_category(ip: IPAddress) -> str | None:
    for category in ("unspecified", "multicast", "loopback", "link_local", "reserved", "private"):
        if getattr(ip, f"is_{category}"):
            return category.replace("_", "-")
    return None if ip.is_global else "non-global"


def address_category(ip: IPAddress) -> str | None:
    """Why an address is not a public one ('loopback', 'private', ...), or None when it is public. An IPv4-mapped
    address is its IPv4 one; an IPv6 address carrying an IPv4 one (`embedded_ipv4`) is refused as that is, e.g.
    6to4 of 127.0.0.1 as loopback (Python counts 2002::/16 as global)."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        return _own_category(mapped)
    own = _own_category(ip)
    if own in NEVER_ALLOWED:  # e.g. NAT64's prefix (reserved) stays never fetched, whatever it carries
        return own
    for inner in embedded_ipv4(ip):
        category = _own_category(inner)
        if category is not None:
            return category
    return own


NEVER_ALLOWED = frozenset({"unspecified", "multicast", "reserved"})


@dataclass(frozen=True)
class FetchPolicy:
    allow_private_hosts: bool = False
    allowed_hosts: tuple[str, ...] = ()
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    backoff_s: float = 0.5
    deadline_s: float = DEFAULT_DEADLINE_S
    ca_file: str | None = None  # trust this CA bundle instead of the default one (a shop's own CA)
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)

    def _host_listed(self, host: str, ip: IPAddress) -> bool:
        for entry in self.allowed_hosts:
            entry = entry.strip().lower()
            if not entry:
                continue
            if entry == host.lower():
                return True
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def check_address(self, host: str, address: str) -> IPAddress:
        """The address, or `FetchError` saying why this policy refuses it."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        category = address_category(ip)
        if category is None:
            return ip
        inner = embedded_ipv4(ip)
        shown = f"{ip} (standing for {', '.join(map(str, inner))})" if inner else str(ip)
        if category in NEVER_ALLOWED:
            raise FetchError(f"refused: {host} resolves to {shown}, a {category} address")
        if self.allow_private_hosts or self._host_listed(host, ip):
            return ip
        raise FetchError(f"refused: {host} resolves to {shown}, a {category} address; {ALLOW_HINT}")


def _checked_target(url: str, policy: FetchPolicy) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """(URL to connect to by checked IP, headers, extensions) for one hop, or `FetchError`."""
    try:
        return _target(url, policy)
    except (ValueError, httpx.InvalidURL) as exc:  # malformed URL (bad brackets, port, characters)
        raise FetchError(f"refused: malformed URL ({exc})") from exc


def _target(url: str, policy: FetchPolicy) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"refused: scheme {parts.scheme or '(none)'!r}; only http and https are fetched")
    host = parts.hostname
    if not host:
        raise FetchError("refused: URL without a host")
    if parts.username or parts.password:
        raise FetchError("refused: URL with credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = policy.resolver(host, port)
    if not addresses:
        raise RetryableFetchError(f"cannot resolve host {host!r}")
    checked = [policy.check_address(host, a) for a in addresses]  # every answer must pass
    ip = checked[0]
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    netloc = f"{ip_host}:{parts.port}" if parts.port else ip_host
    target = httpx.URL(urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return target, {"Host": host_header}, extensions


def _read_capped(response: httpx.Response, url: str, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"{url}: body of {int(declared)} bytes is over the {policy.max_bytes}-byte limit per photo")
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > policy.max_bytes:
            raise FetchError(f"{url}: body is over the {policy.max_bytes}-byte limit per photo; download stopped")
        if time.monotonic() > deadline:
            raise FetchError(_over_deadline(url, policy))
        chunks.append(chunk)
    return b"".join(chunks)


def _over_deadline(url: str, policy: FetchPolicy) -> str:
    return f"{url}: took longer than {policy.deadline_s:g} s, the limit per photo (tries and redirects included)"


def _fetch_once(client: httpx.Client, url: str, policy: FetchPolicy, deadline: float) -> bytes:
    """One try (redirects followed) within the photo's ``deadline`` (a `time.monotonic` time): each request's
    timeouts are cut to the time left, and a body still arriving at the deadline is given up."""
    current = url
    for hop in range(policy.max_redirects + 1):
        target, headers, extensions = _checked_target(current, policy)
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(_over_deadline(url, policy))
        timeout = httpx.Timeout(min(policy.timeout_s, left))
        try:
            with client.stream("GET", target, headers=headers, extensions=extensions, timeout=timeout) as response:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"{current}: HTTP {response.status_code} redirect without a Location")
                    if hop == policy.max_redirects:
                        raise FetchError(f"{url}: more than {policy.max_redirects} redirects")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 500:
                    raise RetryableFetchError(f"{current}: HTTP {response.status_code}")
                if response.status_code >= 400:
                    raise FetchError(f"{current}: HTTP {response.status_code}")
                if response.status_code != 200:
                    raise FetchError(f"{current}: unexpected HTTP {response.status_code}")
                return _read_capped(response, current, policy, deadline)
        except httpx.TimeoutException as exc:
            raise RetryableFetchError(f"{current}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:  # connection refused/reset, protocol errors
            raise RetryableFetchError(f"{current}: {type(exc).__name__}: {exc}") from exc
    raise FetchError(f"{url}: more than {policy.max_redirects} redirects")  # pragma: no cover - loop returns or raises


def fetch_url(url: str, policy: FetchPolicy | None = None) -> bytes:
    """The body of ``url`` under ``policy`` (default: public hosts only), or `FetchError` with the reason.

    ``policy.deadline_s`` bounds the whole photo, retries and their pauses included (a server trickling
    a byte every few seconds could otherwise hold a write for a deadline per try)."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.deadline_s
    timeout = httpx.Timeout(policy.timeout_s)
    attempts = policy.retries + 1
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=policy.ca_file) if policy.ca_file else True
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
        for attempt in range(attempts):
            try:
                return _fetch_once(client, url, policy, deadline)
            except RetryableFetchError as exc:
                pause = policy.backoff_s * (attempt + 1)
                if attempt + 1 == attempts or time.monotonic() + pause >= deadline:
                    raise FetchError(f"{exc} (gave up after {attempt + 1} tries)") from exc
                logger.debug("retrying %s: %s", url, exc)
                time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
