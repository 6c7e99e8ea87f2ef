"""Simulation: synthetic callers and agents in virtual time (and, later, a simulated PBX)."""
