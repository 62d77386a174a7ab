"""Ports: the small protocols the pipeline is written against."""
