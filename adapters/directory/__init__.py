"""calldesk's own record directory: contacts, accounts, leads and cases in a SQLite file.

It answers the screen pop's question (calldesk.ports.directory.RecordDirectory) for
demos, tests and desks without a CRM, and is filled by `calldesk directory seed` or
`calldesk directory import` (docs/directory.md).
"""
