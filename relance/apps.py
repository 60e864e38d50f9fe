from django.apps import AppConfig


class RelanceConfig(AppConfig):
    name = "relance"
    verbose_name = "relance"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.utils.translation import gettext

        from relance.domain import texts
        from relance.services.dunning.bounces import on_tracking_event
        from relance.services.integrations import webhooks
        from relance.services.organisation import journal

        texts.install(gettext)  # the domain's messages, in the reader's language
        tracking.connect(on_tracking_event, dispatch_uid="relance-bounces")
        journal.tell_with(webhooks)  # the journal is below the webhooks: they register
