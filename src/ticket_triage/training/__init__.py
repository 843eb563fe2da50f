"""Training and evaluation: the only layer that may import scikit-learn, scipy or pandas."""
