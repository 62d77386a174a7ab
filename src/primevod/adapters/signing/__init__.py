"""Signing keys on disk (the CloudFront key group's role)."""
