"""Lambda handlers: each wires the AWS adapters to the core for one task."""
