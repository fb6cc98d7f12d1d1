"""Jobs: compositions of collectors, analysis, the store and the read model (import, collect,
backfill, alerts, demo). The CLI calls them; they never import the CLI or the dashboard."""
