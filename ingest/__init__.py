"""Ingestion: load -> normalize -> chunk -> embed -> store."""
from rag.offline import go_offline

go_offline()
