"""Digests and canonical JSON: the exact forms that are hashed and signed."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from svidok.core.canonical import canonical_json
from svidok.core.digest import Digest, is_digest_text
from svidok.core.errors import InvalidInput

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class TestDigest:
    def test_text_form_is_prefixed_fixed_width(self):
        assert str(Digest.of_bytes(b"")) == f"sha256:{EMPTY}"

    def test_parse_accepts_prefix_and_upper_case(self):
        assert Digest.parse(f"SHA256:{EMPTY.upper()}") == Digest(EMPTY)

    @pytest.mark.parametrize("bad", ["", "abc", EMPTY[:-1], EMPTY + "0", "g" * 64])
    def test_rejects_malformed(self, bad):
        with pytest.raises(InvalidInput, match="64 lowercase hex"):
            Digest.parse(bad)
        assert not is_digest_text(bad)

    def test_stream(self):
        digest, size = Digest.of_stream(io.BytesIO(b"x" * 3_000_000))
        assert size == 3_000_000
        assert digest == Digest.of_bytes(b"x" * 3_000_000)


class TestCanonicalJson:
    def test_sorted_compact_utf8(self):
        assert canonical_json({"b": 1, "a": "Свідок"}) == '{"a":"Свідок","b":1}'.encode()

    def test_refuses_floats_naming_the_path(self):
        with pytest.raises(InvalidInput, match=r"\$\.gps\.lat"):
            canonical_json({"gps": {"lat": 50.45}})

    def test_refuses_other_types_naming_the_path(self):
        import datetime

        with pytest.raises(InvalidInput, match=r"found datetime at \$\.when\[1\]"):
            canonical_json({"when": [1, datetime.datetime(2024, 7, 8)]})

    def test_refuses_non_string_keys(self):
        with pytest.raises(InvalidInput, match="keys are strings"):
            canonical_json({1: "x"})

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )

    @given(json_values)
    def test_stable_under_round_trip(self, value):
        once = canonical_json(value)
        assert canonical_json(json.loads(once)) == once
