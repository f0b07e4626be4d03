"""JSON from outside, read so that it can mean one thing only.

Python's parser takes a key twice (the last wins), takes NaN and Infinity, and fails
with a RecursionError, not a ValueError, on a few thousand levels of nesting: a body
that an attacker shapes that way must be refused like any other malformed one, by the
HTTP surface and by the phone systems' adapters alike.
"""

import json
from typing import Any

#: Deeper than any body calldesk takes (an EventBridge contact event nests six levels),
#: far from where a parser's recursion is at risk.
MAX_DEPTH = 32


class MalformedJSON(ValueError):
    """Not JSON, or JSON that does not mean one thing: a key twice, NaN, too deep."""


def parse_json(text: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of the text, or MalformedJSON saying what is wrong with it."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refused)
    except RecursionError:
        raise MalformedJSON(f"the JSON nests deeper than {max_depth} levels") from None
    except MalformedJSON:
        raise
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, a huge integer
        raise MalformedJSON(f"not JSON: {error}") from None
    if _nested_deeper(value, max_depth):
        raise MalformedJSON(f"the JSON nests deeper than {max_depth} levels")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise MalformedJSON(f"the member {key!r} appears twice in one object")
        members[key] = value
    return members


def _refused(constant: str) -> Any:
    raise MalformedJSON(f"{constant} is not a JSON number")


def _nested_deeper(value: Any, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than max_depth; without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
