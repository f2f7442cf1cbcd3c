"""Static embeddings (one vector per word, whatever the context), behind the same interface as the spine."""
