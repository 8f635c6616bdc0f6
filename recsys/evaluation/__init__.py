"""How good a model is: rating and top-k metrics, beyond-accuracy measures, intervals and paired
tests, comparisons by segment, and the glossary that names every reported number."""
