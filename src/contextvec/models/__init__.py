"""Models: where weights come from (offline packages, local folders, the hub) and the backend that runs them."""
