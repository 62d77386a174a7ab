"""The HTTP API (FastAPI). Routes only translate HTTP to the pipeline and the catalog."""
