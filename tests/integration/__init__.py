"""Real processes: workers, the console script, stage processes, brokers, Prometheus."""
