"""Running newsflow on one machine: the embedded broker, worker processes, the demo."""
