from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import account_options
        from portal import account_options as registry

        registry.register(account_options.add_arguments, account_options.apply)

        from billing import prepaid_hooks, receivers
        from billing.signals import balance_changed, balances_changed
        from portal import demo
        from portal.dashboard import register_panel

        balance_changed.connect(receivers.on_balance_changed, dispatch_uid="billing.prepaid")
        balances_changed.connect(receivers.on_balances_changed, dispatch_uid="billing.prepaid")
        register_panel(prepaid_hooks.balance_panel)
        demo.register(prepaid_hooks.seed_demo)

        # Calls (issue 5): the included-minutes meter, after the balance.
        from billing.panels import minutes_panel
        from portal.dashboard import register_panel as add_panel

        add_panel(minutes_panel)

        from billing import rating_demo
        from portal import demo as demo_data

        demo_data.register(rating_demo.seed)
