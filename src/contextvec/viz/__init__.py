"""Pictures: PNG (matplotlib) and self-contained HTML (inline SVG, no scripts fetched from anywhere)."""
