"""Benchmarks: accuracy and speed of recsys next to Surprise and implicit (bench-only peers)."""
