"""What ops people see: Prometheus metrics, health and readiness, the web endpoints, logs."""
