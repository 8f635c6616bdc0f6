"""The Bayesian factorisation machine's sampler: its features (`features`), one Gibbs chain on
myFM (`chain`) and a chain in a child process of its own (`process`). It reads ratings and imports
no model, so a chain's process starts with numpy, SciPy and myFM alone (`recsys.models.bayes_fm`
is the model built on it)."""
