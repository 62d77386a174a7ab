"""Encryption at rest: the envelope format, the local key provider, sealed files."""
