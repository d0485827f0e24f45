"""hoidap: questions answered over your own Vietnamese documents, with cited passages."""
from rag.offline import go_offline

go_offline()
__version__ = "0.1.0"
