"""The AWS shape: Lambda handlers and the CDK constructs that deploy them, built on the same
core as the local pipeline."""
