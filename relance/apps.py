from django.apps import AppConfig


class RelanceConfig(AppConfig):
    name = "relance"
    verbose_name = "relance"

    def ready(self) -> None:
        from anymail.signals import tracking

        from relance.services.dunning.bounces import on_tracking_event

        tracking.connect(on_tracking_event, dispatch_uid="relance-bounces")
