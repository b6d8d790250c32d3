from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import account_options
        from portal import account_options as registry

        registry.register(account_options.add_arguments, account_options.apply)
