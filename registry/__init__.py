"""Generated from proto/registry/v1 by scripts/generate_proto.py. Do not edit."""
