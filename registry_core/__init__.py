"""The pure core shared by the registry, the sync agent and the TUI.

Records and their validation, their written forms (expressions.py), the conversion table,
signed envelopes and the resolution rules. Nothing here imports grpc, sqlmodel or textual, so
every rule can be tested on its own.
"""
