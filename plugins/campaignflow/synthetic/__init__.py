"""A synthetic e-commerce shop with latent customer traits: the project's embedded sample data."""
