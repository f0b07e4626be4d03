"""The terms under which the SQLite directory finds a record for a search, and what a
search's text asks for (ADR/0022).

A record with a number is filed under each word of its name (`w:ada`), and under each
number's digits as dialled internationally and nationally (`n:16505550142`,
`n:6505550142`) and backwards (`r:24105556561`, so that its last digits find it). A
search is then a range of one index, `term >= prefix AND term < the next prefix`,
within the tenant and the kind: its cost grows with what the text reaches, not with the
directory's size.
"""

import re
from collections.abc import Iterator

import attrs
import phonenumbers

from calldesk.domain.phone_numbers import PhoneNumber

_WORD = re.compile(r"\w+")
#: Fewer digits than this find no number: two digits are in almost every one.
NUMBER_DIGITS_MIN = 3


def words_of(text: str) -> list[str]:
    """The words of a name or of a search, as they are compared: case folded."""
    return _WORD.findall(text.casefold())


def terms_of(name: str, numbers: tuple[PhoneNumber | None, ...]) -> set[str]:
    """The terms of a record: none unless it has a number (a search finds only records
    the agent can call)."""
    reachable = [number for number in numbers if number is not None]
    if not reachable:
        return set()
    terms = {f"w:{word}" for word in words_of(name)}
    for number in reachable:
        digits = number.e164.removeprefix("+")
        terms |= {f"n:{digits}", f"r:{digits[::-1]}"}
        national = _national(digits)
        if national:
            terms.add(f"n:{national}")
    return terms


def _national(digits: str) -> str | None:
    """The national significant number of E.164 digits: what follows the country
    code, which is the one prefix of one to three digits that is a country's (country
    codes are prefix-free). Cheaper than parsing, and the same: E.164 keeps Italy's
    leading zero as the national number does."""
    for length in (1, 2, 3):
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[length:]
    return None


@attrs.frozen
class SearchFor:
    """What a search's text asks for: the prefixes of terms that find candidates (any
    of them), and the words every candidate's name must have a word starting with."""

    prefixes: tuple[str, ...]
    words: tuple[str, ...] = ()

    def ranges(self) -> Iterator[tuple[str, str]]:
        """Each prefix as an index range: from it, up to the first text after all
        that start with it."""
        for prefix in self.prefixes:
            yield prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)

    def admits(self, name: str) -> bool:
        """Whether a candidate's name has, for each word of the text, a word that
        starts with it (the index found it by one word only)."""
        own = words_of(name)
        return all(any(word.startswith(w) for word in own) for w in self.words)


def search_for(text: str) -> SearchFor | None:
    """Words when the text has a letter, else its digits when there are enough; None
    when it asks for nothing a record can be found by."""
    words = words_of(text)
    if any(not word.isdigit() for word in words):
        longest = max(words, key=len)
        return SearchFor((f"w:{longest}",), tuple(words))
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < NUMBER_DIGITS_MIN:
        return None
    return SearchFor((f"n:{digits}", f"r:{digits[::-1]}"))
