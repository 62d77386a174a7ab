"""Lifecycle documents in S3's `LifecycleConfiguration` format (core/lifecycle.py reads
them): `default.json` is the seed's rule set, which the AWS stack applies to its source
bucket and the local lifecycle engine to the local store."""
