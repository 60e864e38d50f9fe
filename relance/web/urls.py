"""The staff app's pages."""

from django.contrib.auth import views as auth
from django.urls import path

from relance.web import calendar, customers, dashboard, dialogue, inbox, outbox, plans, rules, team

urlpatterns = [
    path("login/", auth.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/export.csv", customers.customer_export, name="customers-export"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer"),
    path("actions/", inbox.inbox, name="actions"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("actions/<int:pk>/close/", inbox.close, name="action-close"),
    path("outbox/", outbox.outbox_list, name="outbox"),
    path("outbox/<int:pk>/retry/", outbox.outbox_retry, name="outbox-retry"),
    path("outbox/<int:pk>/cancel/", outbox.outbox_cancel, name="outbox-cancel"),
    path("invoices/<int:pk>/", customers.invoice_detail, name="invoice"),
    path("customers/<int:pk>/hold/", dialogue.hold, name="customer-hold"),
    path("customers/<int:pk>/dispute/", dialogue.dispute, name="customer-dispute"),
    path("customers/<int:pk>/promise/", dialogue.promise, name="customer-promise"),
    path("customers/<int:pk>/plan/", dialogue.change_plan, name="customer-plan"),
    path("customers/<int:pk>/send-step/", dialogue.send_step, name="customer-send-step"),
    path("customers/<int:pk>/note/", dialogue.note, name="customer-note"),
    path("team/", team.team_page, name="team"),
    path("team/add/", team.member_add, name="team-add"),
    path("team/<int:pk>/role/", team.member_role, name="team-role"),
    path("team/<int:pk>/remove/", team.member_remove, name="team-remove"),
    path("team/<int:pk>/invite/", team.member_invite, name="team-invite"),
    path("invite/<uidb64>/<token>/", team.AcceptInvitation.as_view(), name="invite"),
    path("plans/", plans.plan_list, name="plans"),
    path("plans/new/", plans.plan_new, name="plan-new"),
    path("plans/rules/", rules.rules, name="rules"),
    path("plans/rules/save/", rules.rules_save, name="rules-save"),
    path("plans/<int:pk>/", plans.plan_edit, name="plan"),
    path("plans/<int:pk>/plan.yaml", plans.plan_yaml, name="plan-yaml"),
    path("plans/<int:pk>/settings/", plans.settings_save, name="plan-settings"),
    path("plans/<int:pk>/steps/<int:index>/", plans.step_save, name="plan-step"),
    path("plans/<int:pk>/steps/<int:index>/preview/", plans.step_preview, name="plan-step-preview"),
    path(
        "plans/<int:pk>/steps/<int:index>/<slug:change>/",
        plans.step_change,
        name="plan-step-change",
    ),
]
