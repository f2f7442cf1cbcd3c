"""Public datasets, read offline from where their packages put them (never committed, never downloaded here)."""
