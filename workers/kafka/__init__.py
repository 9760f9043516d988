"""Kafka tools behind the CLI: topics, produce (files, JSON lines, WARC), tail, lag, dead-letter
replay."""
