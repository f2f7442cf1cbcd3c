"""Corpus-scale jobs: embed files and corpora into durable, sharded outputs."""
