"""The billing app's admin, one module per domain."""

# Django's admin autodiscover imports only ``billing.admin``: importing the modules registers them.
from billing.admin import (  # noqa: F401
    calls,
    cycle,
    ledger,
    numbers,
    payments,
    permissions,
    plans,
    ports,
)
