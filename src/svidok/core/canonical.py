"""Canonical JSON: the exact bytes that are hashed and signed.

Sorted keys, UTF-8, no insignificant whitespace. Floats are refused because
their text form is not stable across languages, and a third party must be able
to reproduce these bytes with any JSON library.
"""

from __future__ import annotations

import json
from typing import Any

from svidok.core.errors import InvalidInput

_SCALARS = (str, int, bool, type(None))


def _is_plain(value: Any) -> bool:
    """True if ``value`` holds only JSON scalars (no floats), lists and string-keyed dicts.

    This runs on every custody event, so it is iterative and builds no error
    paths; :func:`_locate` finds the offending place only when there is one.
    """
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, _SCALARS):
            continue
        if isinstance(current, dict):
            for key, item in current.items():
                if not isinstance(key, str):
                    return False
                if not isinstance(item, _SCALARS):
                    pending.append(item)
        elif isinstance(current, list | tuple):
            pending.extend(current)
        else:
            return False
    return True


def _locate(value: Any, path: str) -> None:
    """Raise naming where ``value`` stops being canonical JSON material."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"canonical JSON keys are strings; found {key!r} at {path}")
            _locate(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _locate(item, f"{path}[{index}]")
    elif isinstance(value, float):
        raise InvalidInput(f"canonical JSON holds no floats; found {value!r} at {path}")
    elif not isinstance(value, _SCALARS):
        raise InvalidInput(
            f"canonical JSON holds strings, integers, booleans, null, lists and objects; "
            f"found {type(value).__name__} at {path}"
        )


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes."""
    if not _is_plain(value):
        _locate(value, "$")
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
