"""What a model learned, shown: latent maps and projections, recommendations with their reasons,
and the 4 x 5 mini demo."""
