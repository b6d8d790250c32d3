from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from portal.models import Account


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import account_options, panels, receivers
        from billing.demo import seed_demo
        from billing.recurring import register_recurring
        from billing.selectors.plans import plan_fee_charges
        from billing.signals import (
            auto_recharge_requested,
            balance_changed,
            balances_changed,
            statement_closed,
        )
        from portal import account_options as registry
        from portal import demo, new_account
        from portal.dashboard import register_panel

        registry.register(account_options.add_arguments, account_options.apply)
        new_account.register(_assign_default_plan)
        register_recurring(plan_fee_charges)

        balance_changed.connect(receivers.on_balance_changed, dispatch_uid="billing.prepaid")
        balances_changed.connect(receivers.on_balances_changed, dispatch_uid="billing.prepaid")
        auto_recharge_requested.connect(
            receivers.on_auto_recharge_requested, dispatch_uid="billing.prepaid"
        )

        statement_closed.connect(receivers.on_statement_closed, dispatch_uid="billing.statements")

        register_panel(panels.fraud_hold_panel)
        register_panel(panels.standing_panel)
        register_panel(panels.balance_panel)
        register_panel(panels.minutes_panel)
        register_panel(panels.plan_panel)
        register_panel(panels.usage_charts_panel)

        demo.register(seed_demo)


def _assign_default_plan(account: Account, now: dt.datetime) -> None:
    from billing.services.plans import account_plan_assign_default

    account_plan_assign_default(account=account, now=now)
