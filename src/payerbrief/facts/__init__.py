"""Per-code facts, each with its state and the source it came from."""
