"""What the collections achieve: KPIs, monthly trends, step effectiveness, timelines."""
