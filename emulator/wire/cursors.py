"""Opaque page cursors (Zep v4).

v4 cursors are opaque strings (zep-cloud 4.0.1: "Opaque page cursor"). Ours encode the
position the next page starts at and the listing they belong to, signed with a per-process
key, so a cursor that was never issued — or was issued for another listing — is recognised
and refused with a 400 instead of silently returning the wrong page. Nothing is stored per
cursor, so paging costs no memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ..core.errors import InvalidInput, shown

_KEY = os.urandom(16)


def encode_cursor(scope: str, position: int) -> str:
    payload = str(position).encode()
    tag = hmac.new(_KEY, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(payload + b"." + tag).decode().rstrip("=")


def decode_cursor(scope: str, token: str, param: str = "cursor") -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, _, tag = raw.partition(b".")
        expected = hmac.new(_KEY, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:9]
        if not payload.isdigit() or not hmac.compare_digest(tag, expected):
            raise ValueError
        return int(payload)
    except ValueError:
        raise InvalidInput("invalid_cursor", f"{param} {shown(token)} was not issued by this listing", param=param) from None
