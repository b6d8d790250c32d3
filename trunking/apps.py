from django.apps import AppConfig


class TrunkingConfig(AppConfig):
    name = "trunking"
    verbose_name = "SIP trunking"

    def ready(self) -> None:
        from billing.call_limits import register_account_fields, register_call_limit
        from billing.recurring import register_period_opening, register_recurring
        from portal import demo
        from trunking.demo import seed_trunks
        from trunking.selectors.channels import channel_check, channel_facts, channel_fields
        from trunking.selectors.trunks import trunk_recurring
        from trunking.services.trunks import trunk_period_opening

        register_recurring(trunk_recurring)
        register_period_opening(trunk_period_opening)
        register_call_limit(channel_check, channel_facts)
        register_account_fields(channel_fields)
        demo.register(seed_trunks)
