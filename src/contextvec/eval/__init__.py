"""Evaluation on public data."""
