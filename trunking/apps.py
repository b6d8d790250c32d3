from django.apps import AppConfig


class TrunkingConfig(AppConfig):
    name = "trunking"
    verbose_name = "SIP trunking"
