"""A small demonstration network: a registry and three institutions' agents."""
