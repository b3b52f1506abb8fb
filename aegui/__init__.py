"""aegui: draw a digit and watch an autoencoder's latent code respond."""

__version__ = "0.1.0"
