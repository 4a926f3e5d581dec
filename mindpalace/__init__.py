"""mindpalace: a memory for embodied agents."""

__version__ = "0.1.0"
