"""The AWS shape's CDK app: constructs in one module per concern (storage, data, functions,
workflow, pipeline, api), assembled by `stack.PrimeVodStack` and synthesized offline by
`app.synth()`. Only this package imports `aws_cdk` (the optional `aws` extra); importing the
package itself imports nothing of it, so `definition` works without the extra."""
