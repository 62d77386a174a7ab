"""Names of the documentation's example AWS account, for jobs built only to be shown or
priced (a module of its own: the command line reads it at start-up)."""

EXAMPLE_ROLE_ARN = "arn:aws:iam::123456789012:role/primevod-mediaconvert"
