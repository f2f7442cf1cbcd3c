"""Peer servers and libraries for side-by-side benchmarks, each in a virtual environment of its own."""
