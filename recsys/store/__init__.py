"""Where trained models live: artifacts on disk (atomic writes, checksums, plain arrays and native
.keras files only) and the server's in-memory model cache."""
