"""The media engine: PyAV probing, the bundled FFmpeg for encoding and packaging."""
