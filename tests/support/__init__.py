"""What the tests (and bench/) share: sample pages and seed articles, worker processes,
what reached a topic, and the brokers and servers the integration tests run on."""
