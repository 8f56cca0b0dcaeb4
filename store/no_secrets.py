"""The rule that keeps credentials out of SQLite: audit requests and claim payloads are
checked key by key before they are written (a secret in the chained log could never be
removed without breaking the chain)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys whose values are credentials; matched case-insensitively, '-' == '_'.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "secret",
        "client_secret",
        "authorization",
        "api_key",
        "apikey",
    }
)


def check_no_secrets(value: Any, where: str = "request") -> None:
    """Refuse credentials anywhere in a JSON-like value (dict keys, recursively).

    The log is meant to be read by operators and exported; a password that got
    in could never be removed without breaking the chain.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower().replace("-", "_") in SECRET_KEYS:
                raise ValueError(f"{where}: refusing to store secret field {key!r}")
            check_no_secrets(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_no_secrets(item, f"{where}[{index}]")
