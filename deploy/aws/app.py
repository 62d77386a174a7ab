"""The CDK app's entry point for the CDK CLI (`npx aws-cdk deploy`, see README.md): the app
is built in the package (primevod.aws.cdk.app), so `primevod aws synth` and this file
synthesize the same stack. The CLI passes the output folder (CDK_OUTDIR) and the context."""

from __future__ import annotations

from primevod.aws.cdk.app import build_app

if __name__ == "__main__":
    build_app().synth()
