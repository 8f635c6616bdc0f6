"""Data in: MovieLens sources and their download, readers of every layout, users' uploads, the
fast local cache, the in-memory dataset, splits, synthetic sets and descriptive statistics. Never
imports a model."""
