"""newsmirror: one folder of articles, a complete static news site for every mirror address."""

__version__ = "0.1.0"
