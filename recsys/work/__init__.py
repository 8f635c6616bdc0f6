"""Work a person asks for: the request (presets, per-size settings, config, key, cost resolved
once), training, tuning and tuned presets, and the jobs that run them."""
