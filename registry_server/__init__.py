"""The network's registry: verifies and stores publications, keeps the audit log, answers
equivalence queries over gRPC."""
