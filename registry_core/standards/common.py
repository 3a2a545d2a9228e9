"""What the standards' mappings share."""

from __future__ import annotations

from urllib.parse import quote


def uri_part(key: str) -> str:
    """A record key as one segment of a URI: keys may hold spaces ("MAT SCI 45") and '/',
    which a URI must percent-encode (RFC 3986)."""
    return quote(key, safe="")
