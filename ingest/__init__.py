"""Ingestion: load -> normalize -> chunk -> embed -> store."""
from ingest.offline import go_offline

go_offline()
