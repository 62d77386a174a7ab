"""prime-vod: a video-on-demand pipeline."""

__version__ = "0.1.0"
