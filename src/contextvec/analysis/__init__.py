"""Seeing context: occurrences of a word, sense induction and labelling, contextuality per layer, anisotropy
correction, and attention merged to words. Everything runs through the spine (`Embedder`)."""
