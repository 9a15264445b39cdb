"""Canonical JSON: the exact bytes that are hashed and signed.

Sorted keys, UTF-8, no insignificant whitespace. Floats are refused because
their text form is not stable across languages, and a third party must be able
to reproduce these bytes with any JSON library.
"""

from __future__ import annotations

import json
from typing import Any

from svidok.core.errors import InvalidInput


def _check(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise InvalidInput(f"canonical JSON holds no floats; found {value!r} at {path}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"canonical JSON keys are strings; found {key!r} at {path}")
            _check(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes."""
    _check(value, "$")
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
