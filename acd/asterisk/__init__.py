"""Asterisk adapters: AMI framing/codec (``ami_codec``) and the AMI client (``ami``)."""
