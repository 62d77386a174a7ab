"""The pipeline: ingest -> process -> publish, written once against the ports and run as
durable DBOS workflows."""
