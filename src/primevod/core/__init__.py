"""Pure domain: models and rules. Imports nothing else of the project and does no I/O."""
