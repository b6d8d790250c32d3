from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import account_options
        from portal import account_options as registry

        registry.register(account_options.add_arguments, account_options.apply)

        # Calls (issue 5): the included-minutes meter, after the balance.
        from billing.views import minutes_panel
        from portal.dashboard import register_panel as add_panel

        add_panel(minutes_panel)
