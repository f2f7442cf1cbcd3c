"""Reading inputs (txt, jsonl) and writing vectors (Parquet)."""
