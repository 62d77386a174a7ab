"""AWS adapters: what the AWS shape of the pipeline needs from botocore (MediaConvert job
requests checked offline against the service model)."""
