"""One module or rule at a time, in-process: no broker, no worker processes."""
