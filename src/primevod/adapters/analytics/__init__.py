"""The analytics lake (DuckDB over Parquet)."""
