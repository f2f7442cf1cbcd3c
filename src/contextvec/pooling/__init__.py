"""Pooling: layers (L -> 1), subwords -> words/spans (T -> W), tokens -> sentence (T -> 1)."""
