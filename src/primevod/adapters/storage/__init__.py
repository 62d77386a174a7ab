"""Object stores: local folders (embedded default) and S3 / S3-compatible (boto3)."""
