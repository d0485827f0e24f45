"""One settings object: hoidap.toml < HOIDAP_* environment < CLI flags."""
import pytest

from rag.settings import SettingsError, load_settings


def test_precedence_file_env_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hoidap.toml").write_text('collection = "from_file"\ntop_k = 7\nretriever = "bm25"\n')
    s = load_settings()
    assert (s.collection, s.top_k, s.retriever) == ("from_file", 7, "bm25")
    monkeypatch.setenv("HOIDAP_TOP_K", "9")
    monkeypatch.setenv("HOIDAP_COLLECTION", "from_env")
    s = load_settings()
    assert (s.collection, s.top_k, s.retriever) == ("from_env", 9, "bm25")
    s = load_settings(collection="from_cli")
    assert (s.collection, s.top_k) == ("from_cli", 9)


def test_data_dir_holds_the_settings_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "h"
    home.mkdir()
    (home / "hoidap.toml").write_text("top_k = 4\n")
    monkeypatch.setenv("HOIDAP_HOME", str(home))
    assert load_settings().top_k == 4
    s = load_settings().save(top_k=6)
    assert s.top_k == 6 and load_settings().top_k == 6


def test_bad_values_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOIDAP_TOP_K", "many")
    with pytest.raises(SettingsError, match="top_k"):
        load_settings()
    monkeypatch.delenv("HOIDAP_TOP_K")
    (tmp_path / "hoidap.toml").write_text("top_k = [\n")
    with pytest.raises(SettingsError, match="hoidap.toml"):
        load_settings()
