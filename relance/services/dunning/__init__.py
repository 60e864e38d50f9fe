"""The dunning plans and everything that runs them: triage, the daily cycle, the outbox,
forecasts, actions, campaigns and sales reps' notices."""
