"""Billing writes, one module per domain. Import from the module that owns the rule
(``billing.services.ledger``, ``billing.services.deposits``…); nothing is re-exported here."""
