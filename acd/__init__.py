"""acd: an ACD/IVR call-routing service for Asterisk."""

__version__ = "0.1.0"
