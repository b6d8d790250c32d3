"""Billing reads, one module per domain, always scoped to an account (another account's id is
a 404). Import from the module that owns the read; nothing is re-exported here."""
