from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import account_options, panels, receivers
        from billing.demo import seed_demo
        from billing.signals import auto_recharge_requested, balance_changed, balances_changed
        from portal import account_options as registry
        from portal import demo
        from portal.dashboard import register_panel

        registry.register(account_options.add_arguments, account_options.apply)

        balance_changed.connect(receivers.on_balance_changed, dispatch_uid="billing.prepaid")
        balances_changed.connect(receivers.on_balances_changed, dispatch_uid="billing.prepaid")
        auto_recharge_requested.connect(
            receivers.on_auto_recharge_requested, dispatch_uid="billing.prepaid"
        )

        register_panel(panels.standing_panel)
        register_panel(panels.balance_panel)
        register_panel(panels.minutes_panel)

        demo.register(seed_demo)
