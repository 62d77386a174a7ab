"""Implementations of the ports: media (FFmpeg + PyAV) and, later, storage and catalog."""
