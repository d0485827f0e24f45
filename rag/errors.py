"""Errors every door reports by name, importable without the pipeline's heavy dependencies (the CLI's error
handler imports them for commands that never load a model)."""


class NotFound(LookupError):
    """An unknown collection, document or job; the message names it."""


class GeneratorError(Exception):
    """The generator is unreachable, too slow or broken; the message names it."""
