from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "messagecenter.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from messagecenter.accounts import closed_accounts
        from messagecenter.privacy.models import Erasure

        # An erased account reads "closed", a suspended one "suspended" where people write
        # to it (conversations.queries.closed_counterpart).
        closed_accounts.register(
            lambda person_id: Erasure.objects.filter(person_id=person_id).exists()
        )
