"""Interoperability with the standards institutions already use, one module each: the
European Learning Model (elm), Open Badges 3.0 (ob3), Credential Engine's CTDL (ctdl).
docs/standards.md says which fields map where."""
