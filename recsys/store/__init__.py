"""Where trained models live: artifacts on disk (atomic writes, checksums, no pickle) and the
server's in-memory model cache."""
