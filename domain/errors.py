"""The kinds of refusal every part of calldesk raises and every edge knows how to show.

Each message is written for the person who sent the command: it says what was refused
and what to do instead.
"""


class DomainError(Exception):
    """A command that calldesk refused; nothing was recorded."""


class InvalidValue(DomainError, ValueError):
    """A value breaks the rule of its kind: empty, too long, or a forbidden character."""


class NotFound(DomainError, LookupError):
    """No such thing in this tenant; another tenant's things look exactly like this."""


class AlreadyExists(DomainError):
    """Creating something that already exists would overwrite its history."""


class Refused(DomainError):
    """The thing exists, but its current state does not allow the command."""
