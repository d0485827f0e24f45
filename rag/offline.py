"""The offline switches live with the lowest layer that needs them (ingest: the embedder's libraries)."""
from ingest.offline import OFFLINE_ENV, go_offline

__all__ = ["OFFLINE_ENV", "go_offline"]
