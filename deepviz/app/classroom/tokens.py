"""Join codes, class ids and the tokens that say who may do what in a class.

A join code is short, for a projector: 6 symbols from 32 (no 0/O, 1/I), 32⁶ ≈ 10⁹ codes, so
that a guess finds one of `max_classes` open classes with odds below 1 in 5 million, and
joins with a wrong code are rate-limited per address. Codes are read case-insensitively.

Tokens are signed (HMAC-SHA256 with `classroom_secret`), not stored: any worker of any
instance checks one without asking the broker, and a token outlives a Redis restart, so that
the instructor's next state restores a class that Redis lost and its students reconnect with
the tokens they hold. A token names its class (code and class id: a code used again by a
later class does not accept an earlier class's tokens) and its role:

    instructor: "i.<class_id>.<mac>"        student: "s.<class_id>.<student_id>.<mac>"

Each part is URL-safe base64 or hex; nothing in a token is secret but the MAC, and it is
compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_TOKEN_LENGTH = 200  # longer is not one of ours: refused before any parsing


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str | None:
    """The code as stored (upper case, no spaces), or None if it cannot be one."""
    code = text.strip().upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def new_class_id() -> str:
    return secrets.token_urlsafe(9)  # 12 characters


def new_student_id() -> str:
    return secrets.token_hex(5)  # 10 characters: unique within a class of a thousand


@dataclass(frozen=True)
class Token:
    role: str  # "i" (instructor) or "s" (student)
    class_id: str
    student_id: str = ""


class Signer:
    """Makes and checks tokens with one secret (bytes)."""

    def __init__(self, secret: str):
        self.key = secret.encode() if secret else secrets.token_bytes(32)

    def _mac(self, *parts: str) -> str:
        digest = hmac.new(self.key, "|".join(parts).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()  # 192 bits

    def instructor(self, code: str, class_id: str) -> str:
        return f"i.{class_id}.{self._mac('i', code, class_id)}"

    def student(self, code: str, class_id: str, student_id: str) -> str:
        return f"s.{class_id}.{student_id}.{self._mac('s', code, class_id, student_id)}"

    def check(self, code: str, token: str, role: str) -> Token | None:
        """The token's content if it is a valid `role` token for class `code`, else None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        parts = token.split(".")
        if role == "i" and len(parts) == 3 and parts[0] == "i":
            found, expected = Token("i", parts[1]), self._mac("i", code, parts[1])
        elif role == "s" and len(parts) == 4 and parts[0] == "s":
            found, expected = Token("s", parts[1], parts[2]), self._mac("s", code, parts[1], parts[2])
        else:
            return None
        return found if hmac.compare_digest(parts[-1].encode(), expected.encode()) else None
