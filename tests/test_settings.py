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


def test_a_logins_chat_settings_are_its_own_and_survive_a_restart(tmp_path):
    """The chat's settings panel keeps a login's changes with its data; the defaults and other logins keep theirs."""
    from rag.components import Components
    from rag.service import Service
    from rag.settings import Settings

    def service() -> Service:  # a fresh server process over the same data directory
        return Service(Components(Settings(home=tmp_path / "data", llm="none")))

    svc = service()
    defaults = svc.settings
    assert svc.save_user_settings("an", top_k=3, answer_style="generated", retriever="hybrid") == {
        "top_k": 3, "answer_style": "generated"}  # only what differs from the defaults is kept
    with pytest.raises(SettingsError, match="top_k"):
        svc.save_user_settings("an", top_k=99)
    assert svc.settings is defaults and defaults.top_k == 5

    again = service()
    assert again.user_changes("an") == {"top_k": 3, "answer_style": "generated"}
    assert (again.user_settings(again.user_changes("an")).top_k, again.user_settings({}).top_k) == (3, 5)
    assert again.user_changes("binh") == {}
    # a browser's own changes (no login) are validated the same way; invalid ones fall back to the defaults
    assert again.user_changes("", {"top_k": 2}) == {"top_k": 2}
    assert again.user_changes("", {"top_k": 0}) == {} and again.user_changes("", {"home": "/"}) == {}
