"""Observability: metrics (recorded here, stored per minute, exposed to Prometheus), alarms,
the scheduled canary, JSON logs and OpenTelemetry tracing."""
