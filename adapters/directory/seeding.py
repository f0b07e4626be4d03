"""Realistic, reproducible directories for demos, tests and benchmarks.

A screen pop is only tried for real on data shaped like a CRM's: people at companies,
some reached only through the switchboard with an extension (so one number finds many
records), some with mobiles, some leads, and cases open and closed. The same seed,
region and size always give the same directory, so a demo or a benchmark can be rerun
and a bug report can name the exact data.
"""

import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime

import phonenumbers
from faker import Faker
from faker.config import AVAILABLE_LOCALES
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from calldesk.adapters.directory.record_import import ImportTotals, RowsByKind, import_rows
from calldesk.apps.desk import Desk
from calldesk.apps.phone_numbers import checked_region
from calldesk.apps.records import ImportRow
from calldesk.domain.crm_records import Author
from calldesk.domain.errors import InvalidValue
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.record_schemas import INDUSTRIES
from calldesk.domain.records import RecordKind

#: Contacts made per batch (with their accounts, leads and cases).
CONTACTS_PER_BATCH = 5_000
#: Who a seeded record says made it.
SEEDER = Author("import", "seed")

_CONTACTS_PER_ACCOUNT = 5
_SHARE_SWITCHBOARD = 0.25
_OWN_DESK_PHONE = 0.85
_HAS_MOBILE = 0.5
_WITHOUT_ACCOUNT = 0.1
_LEADS_PER_CONTACT = 0.1
_OPEN_CASE = 0.35
_CASES_PER_CONTACT = (0, 0, 0, 0, 0, 0, 0, 1, 1, 2)
_NAME_POOL = 2_000
_COMPANY_POOL = 1_000
_OPEN_STATUSES = ("New", "Working", "Escalated")
_PRIORITIES = ("Low", "Medium", "High")

_CASE_SUBJECTS = (
    "Invoice shows the wrong amount",
    "Cannot log in after password reset",
    "Delivery has not arrived",
    "Request to change the billing address",
    "Refund for a cancelled order",
    "Device stops charging",
    "Question about the renewal price",
    "Export to CSV times out",
    "Wants to add five more seats",
    "Duplicate charge on the card",
    "Upgrade to the annual plan",
    "Missing part in the package",
)


def seed_records(
    desk: Desk,
    tenant: str,
    *,
    contacts: int,
    at: Callable[[], datetime],
    region: str = "US",
    seed: int = 1,
    on_imported: Callable[[RecordKind, int], None] = lambda _, __: None,
) -> ImportTotals:
    """Records `contacts` contacts with their accounts, leads and cases, batch by batch,
    through the same rules as any import; the same seed again records nothing new.

    `on_imported` hears of each part once recorded, so a caller can show progress.
    """
    return import_rows(
        desk,
        tenant,
        seeded_rows(contacts, region, seed),
        operation_id=f"seed-{seed}",
        by=SEEDER,
        at=at,
        on_imported=on_imported,
    )


def seeded_rows(contacts: int, region: str = "US", seed: int = 1) -> Iterator[RowsByKind]:
    """The rows of `contacts` contacts and their accounts, leads and cases, a batch at
    a time, as an import reads a file's."""
    if contacts < 1:
        raise InvalidValue(f"seed at least one contact, not {contacts}")
    generator = _DirectoryGenerator(checked_region(region), seed)
    for start in range(0, contacts, CONTACTS_PER_BATCH):
        yield generator.batch(min(CONTACTS_PER_BATCH, contacts - start))


def _locale(region: str) -> str:
    """Faker's locale for the region, so names fit the numbers: en_GB for GB."""
    matching = sorted(name for name in AVAILABLE_LOCALES if name.endswith(f"_{region}"))
    if f"en_{region}" in matching:
        return f"en_{region}"
    return matching[0] if matching else "en_US"


def _mailbox(word: str) -> str:
    """A name as it appears in an e-mail address: lower case, no spaces or punctuation."""
    return re.sub(r"\W", "", word.lower())


class _NumberSequence:
    """Valid numbers of one type in a region, each once until the plan's range runs out.

    The example number of the type fixes the area; its last digits run through a
    permutation chosen by the seed, keeping only what the numbering plan calls valid.
    """

    def __init__(self, region: str, kind: int, rng: random.Random) -> None:
        # A region without an example of the type (TA has no mobiles) uses its general one.
        example = phonenumbers.example_number_for_type(region, kind)
        example = example or phonenumbers.example_number(region)
        if example is None:
            raise InvalidValue(
                f"the numbering plan of {region} has no number to start from"
            )
        self._example = example
        digits = str(example.national_number)
        self._varied = max(1, min(7, len(digits) - 2))
        self._prefix = digits[: -self._varied]
        self._range = 10**self._varied
        # A step ending in 1, 3, 7 or 9 shares no factor with 10**n: it visits every tail.
        self._step = rng.randrange(1, self._range) * 10 + rng.choice((1, 3, 7, 9))
        self._offset = rng.randrange(self._range)
        self._drawn = 0

    def draw(self) -> PhoneNumber:
        while True:
            tail = (self._offset + self._drawn * self._step) % self._range
            self._drawn += 1
            candidate = phonenumbers.PhoneNumber(
                country_code=self._example.country_code,
                national_number=int(f"{self._prefix}{tail:0{self._varied}d}"),
                italian_leading_zero=self._example.italian_leading_zero,
                number_of_leading_zeros=self._example.number_of_leading_zeros,
            )
            if phonenumbers.is_valid_number(candidate):
                return PhoneNumber(
                    phonenumbers.format_number(candidate, PhoneNumberFormat.E164)
                )


class _DirectoryGenerator:
    """Every draw comes from one seeded source in a fixed order: same seed, same data."""

    def __init__(self, region: str, seed: int) -> None:
        self._rng = random.Random(seed)
        fake = Faker(_locale(region))
        fake.seed_instance(seed)
        self._first_names = sorted({fake.first_name() for _ in range(_NAME_POOL)})
        self._last_names = sorted({fake.last_name() for _ in range(_NAME_POOL)})
        self._companies = sorted({fake.company() for _ in range(_COMPANY_POOL)})
        self._mail_domains = sorted({fake.free_email_domain() for _ in range(50)})
        self._desk_phones = _NumberSequence(region, PhoneNumberType.FIXED_LINE, self._rng)
        self._mobiles = _NumberSequence(region, PhoneNumberType.MOBILE, self._rng)
        self._serials = dict.fromkeys(RecordKind, 0)

    def _row(
        self, kind: RecordKind, prefix: str, values: dict[str, FieldValue]
    ) -> ImportRow:
        """A row with an id shaped like a CRM's, a prefix by kind and a serial number
        (CON-0000042), numbered in its kind as a file's lines are."""
        self._serials[kind] += 1
        serial = self._serials[kind]
        present = {field: value for field, value in values.items() if value is not None}
        return ImportRow(serial, present, f"{prefix}-{serial:07d}")

    def _person(self) -> dict[str, FieldValue]:
        """A name, and an e-mail address's local part made from it (without domain)."""
        first = self._rng.choice(self._first_names)
        last = self._rng.choice(self._last_names)
        return {
            "first_name": first,
            "last_name": last,
            "email": f"{_mailbox(first)}.{_mailbox(last)}",
        }

    def _account(self) -> tuple[ImportRow, str]:
        company = self._rng.choice(self._companies)
        domain = f"{_mailbox(company.split()[0])}.example"
        values: dict[str, FieldValue] = {
            "name": company,
            "phone": str(self._desk_phones.draw()),
            "industry": self._rng.choice(INDUSTRIES),
            "website": f"https://www.{domain}",
        }
        return self._row(RecordKind.ACCOUNT, "ACC", values), domain

    def batch(self, contact_count: int) -> RowsByKind:
        rng = self._rng
        accounts: list[ImportRow] = []
        contacts: list[ImportRow] = []
        cases: list[ImportRow] = []
        current: tuple[ImportRow, str] | None = None
        for _ in range(contact_count):
            person = self._person()
            if rng.random() < _WITHOUT_ACCOUNT:
                contact = self._consumer(person)
            else:
                if current is None or rng.random() < 1 / _CONTACTS_PER_ACCOUNT:
                    current = self._account()
                    accounts.append(current[0])
                contact = self._employee(*current, person)
            contacts.append(contact)
            for _ in range(rng.choice(_CASES_PER_CONTACT)):
                is_open = rng.random() < _OPEN_CASE
                case: dict[str, FieldValue] = {
                    "subject": rng.choice(_CASE_SUBJECTS),
                    "status": rng.choice(_OPEN_STATUSES) if is_open else "Closed",
                    "priority": rng.choice(_PRIORITIES),
                    "contact": contact.record_id,
                    "account": contact.values.get("account"),
                }
                cases.append(self._row(RecordKind.CASE, "CASE", case))
        leads = [self._lead() for _ in range(round(contact_count * _LEADS_PER_CONTACT))]
        return {
            RecordKind.ACCOUNT: accounts,
            RecordKind.CONTACT: contacts,
            RecordKind.LEAD: leads,
            RecordKind.CASE: cases,
        }

    def _employee(
        self, account: ImportRow, domain: str, person: dict[str, FieldValue]
    ) -> ImportRow:
        """Someone at a company: the switchboard and an extension, or a desk phone."""
        rng = self._rng
        switchboard = account.values.get("phone")
        if rng.random() < _SHARE_SWITCHBOARD and switchboard is not None:
            extension = str(rng.randrange(100, 1000))
            phone: PhoneNumber | None = PhoneNumber(str(switchboard), extension)
        elif rng.random() < _OWN_DESK_PHONE:
            phone = self._desk_phones.draw()
        else:
            phone = None
        mobile = (
            self._mobiles.draw() if phone is None or rng.random() < _HAS_MOBILE else None
        )
        values: dict[str, FieldValue] = {
            **person,
            "account": account.record_id,
            "phone": str(phone) if phone else None,
            "mobile": str(mobile) if mobile else None,
            "email": f"{person['email']}@{domain}",
        }
        return self._row(RecordKind.CONTACT, "CON", values)

    def _consumer(self, person: dict[str, FieldValue]) -> ImportRow:
        """A customer on their own: a mobile, and a free e-mail address."""
        values: dict[str, FieldValue] = {
            **person,
            "mobile": str(self._mobiles.draw()),
            "email": f"{person['email']}@{self._rng.choice(self._mail_domains)}",
        }
        return self._row(RecordKind.CONTACT, "CON", values)

    def _lead(self) -> ImportRow:
        person = self._person()
        on_mobile = self._rng.random() < _HAS_MOBILE
        values: dict[str, FieldValue] = {
            **person,
            "phone": None if on_mobile else str(self._desk_phones.draw()),
            "mobile": str(self._mobiles.draw()) if on_mobile else None,
            "email": f"{person['email']}@{self._rng.choice(self._mail_domains)}",
            "status": "Open",
        }
        return self._row(RecordKind.LEAD, "LEAD", values)
