"""The doors every user comes in by, each thin over rag.service: the CLI (`hoidap`), the HTTP API (OpenAI-compatible
and REST), the process serving it with the chat (`hoidap serve`), llama-index's retriever and query engine, and
the serving policy (keys, login, limits) they share."""
