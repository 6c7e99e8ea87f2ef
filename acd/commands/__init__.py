"""Sub-commands of the ``acd`` command line, one module each."""
