"""JSON from outside means one thing, or is refused as malformed (never a crash)."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.adapters.strict_json import MAX_DEPTH, MalformedJSON, parse_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_any_json_value_within_the_depth_reads_back_as_it_was(value: Any) -> None:
    assert parse_json(json.dumps(value)) == value
    assert parse_json(json.dumps(value).encode()) == value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
def test_nesting_deeper_than_the_limit_is_malformed_at_any_depth(depth: int) -> None:
    for opened, closed in (("[", "]"), ('{"a":', "}")):
        with pytest.raises(MalformedJSON, match="deeper than"):
            parse_json(opened * depth + "1" + closed * depth)


def test_nesting_at_the_limit_is_read() -> None:
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


@given(st.text(min_size=1), values, values)
def test_a_key_given_twice_is_malformed_wherever_it_is(
    key: str, first: Any, second: Any
) -> None:
    name = json.dumps(key)
    twice = f"{{{name}: {json.dumps(first)}, {name}: {json.dumps(second)}}}"
    with pytest.raises(MalformedJSON, match="appears twice"):
        parse_json(f'{{"outer": [{twice}]}}')


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_numbers_json_does_not_have_are_malformed(text: str) -> None:
    with pytest.raises(MalformedJSON, match="not a JSON number"):
        parse_json(text)


@given(st.binary(max_size=64))
def test_any_bytes_are_a_value_or_malformed_saying_why(raw: bytes) -> None:
    """Never another exception (a RecursionError, a UnicodeDecodeError of its own)."""
    try:
        parse_json(raw)
    except MalformedJSON as refused:
        reason = str(refused)
    else:
        reason = "read"
    assert reason
