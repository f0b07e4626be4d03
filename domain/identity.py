"""How tenants, agents and codes are named, and how names map to stable aggregate ids.

Ids are derived (uuid5) rather than drawn at random so that the same outside name always
lands on the same aggregate: a duplicate delivery or a retried command meets the
aggregate it meant, and optimistic concurrency absorbs the race (ADR/0002).
"""

import functools
import re
import unicodedata
from uuid import UUID, uuid5

from calldesk.domain.errors import InvalidValue

#: Fixed namespace of every calldesk uuid5; changing it would orphan every stored log.
CALLDESK_NAMESPACE = UUID("5f0c3a52-8f8e-4f38-9a43-3c1d6b6f7e21")

SLUG_MAX_LENGTH = 63
CODE_MAX_LENGTH = 32
NAME_MAX_LENGTH = 200

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")


@functools.lru_cache(maxsize=4096)
def stable_id(kind: str, *parts: str) -> UUID:
    """The aggregate id of the thing of this kind with these name parts, always the same.

    Remembered: a busy call or agent asks for its id with every signal."""
    return uuid5(CALLDESK_NAMESPACE, "/".join((kind, *parts)))


def checked_slug(value: str, what: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """A machine name of lower-case letters, digits and . _ - inside, like "a-17"."""
    if not value:
        raise InvalidValue(f"{what} must not be empty")
    if len(value) > max_length:
        raise InvalidValue(
            f"{what} is {len(value)} characters long; at most {max_length} are allowed"
        )
    if not _SLUG.fullmatch(value):
        raise InvalidValue(
            f"{what} {value!r} may hold only lower-case letters, digits and . _ - "
            "and must start and end with a letter or digit"
        )
    return value


def checked_code(value: str, what: str) -> str:
    """A short machine code chosen from a configured list, like a not-ready reason."""
    return checked_slug(value, what, CODE_MAX_LENGTH)


def checked_text(value: str, what: str, max_length: int = NAME_MAX_LENGTH) -> str:
    """Text a person reads (a display name, a label), stripped of outer white space."""
    text = value.strip()
    if not text:
        raise InvalidValue(f"{what} must not be empty")
    if len(text) > max_length:
        raise InvalidValue(
            f"{what} is {len(text)} characters long; at most {max_length} are allowed"
        )
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise InvalidValue(f"{what} must not contain control characters")
    return text
