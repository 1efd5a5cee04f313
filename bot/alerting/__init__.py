"""Bird's webhooks turned into Slack alerts: signature checks, intake, shared state, the alert engine."""
