"""Billing Celery tasks: thin, they take ids and call a service. Task names are pinned to
``billing.tasks.<function>`` so queued tasks and the beat schedule resolve wherever they live."""

# Celery's autodiscovery imports only ``billing.tasks``: importing the modules registers them.
from billing.tasks import (  # noqa: F401
    auto_recharge,
    calls,
    cycle,
    deposits,
    ledger_check,
    low_balance,
    permissions,
    ports,
    reconcile,
    statements,
)
