import base64
import hashlib
import hmac

import pytest

from ensemble.settings import ROOT, SettingsError, load_settings
from ensemble.turn import ice_servers
from tests.conftest import make_settings

JANUS = {"JANUS_URLS": "ws://10.0.0.5:8188", "JANUS_API_SECRET": "a", "JANUS_ADMIN_KEY": "b", "JANUS_TOKEN_SECRET": "token-secret-xyz"}


def test_defaults_come_from_config_defaults_env():
    settings = load_settings(environ={}, dotenv_path=None)
    assert (settings.host, settings.port, settings.async_mode) == ("127.0.0.1", 5000, "gevent")
    assert settings.mesh_max == 4 and settings.room_limit == 4 and settings.stun_urls == ()


def test_environment_beats_dotenv_which_beats_defaults(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=6000\nMESH_MAX=3\nSTUN_URLS=stun:a:3478, stun:b:3478\n")
    settings = load_settings(environ={"PORT": "7000"}, dotenv_path=dotenv)
    assert settings.port == 7000 and settings.mesh_max == 3
    assert settings.stun_urls == ("stun:a:3478", "stun:b:3478")


def test_with_janus_rooms_hold_sfu_max_peers_and_browsers_get_the_public_address():
    settings = load_settings(environ={**JANUS, "JANUS_PUBLIC_URLS": "wss://site/janus"}, dotenv_path=None)
    assert (settings.mesh_max, settings.room_limit) == (4, 16)
    assert settings.janus_public_url("ws://10.0.0.5:8188") == "wss://site/janus"
    assert "token-secret-xyz" not in repr(settings)


def test_relay_only_is_a_setting_for_sites_with_turn():
    assert load_settings(environ={}, dotenv_path=None).ice_transport_policy == "all"
    settings = load_settings(environ={"ICE_TRANSPORT_POLICY": "relay", "TURN_URLS": "turn:t:3478"}, dotenv_path=None)
    assert settings.ice_transport_policy == "relay"


def test_flask_run_always_serves_threaded():
    assert load_settings(environ={"FLASK_RUN_FROM_CLI": "true", "ASYNC_MODE": "gevent"}, dotenv_path=None).async_mode == "threading"


@pytest.mark.parametrize(
    "environ, words",
    [
        ({"ASYNC_MODE": "asyncio"}, "ASYNC_MODE must be one of gevent, eventlet, threading"),
        ({"PORT": "http"}, "PORT must be a number"),
        ({"PORT": "70000"}, "PORT must be between"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"MESH_MAX": "1"}, "MESH_MAX must be at least 2"),
        ({"MAX_PEERS_PER_ROOM": "6"}, "MAX_PEERS_PER_ROOM is now MESH_MAX"),
        ({"JANUS_URLS": "ws://j:8188"}, "set JANUS_API_SECRET too"),
        ({"JANUS_URLS": "http://j:8188"}, "ws:// or wss://"),
        ({"JANUS_URLS": "ws://a:8188,ws://b:8188", "JANUS_PUBLIC_URLS": "wss://site/janus"}, "one address per JANUS_URLS entry"),
        ({**JANUS, "SFU_MAX_PEERS": "4"}, "SFU_MAX_PEERS must be more than MESH_MAX"),
        ({"ICE_TRANSPORT_POLICY": "turn-only"}, "ICE_TRANSPORT_POLICY must be all or relay"),
        ({"ICE_TRANSPORT_POLICY": "relay"}, "set TURN_URLS too"),
        ({"WRONG_PASSWORD_DELAY_SECONDS": "-1"}, "WRONG_PASSWORD_DELAY_SECONDS must not be negative"),
        ({"TURN_CREDENTIALS_PER_IP_PER_MINUTE": "0"}, "TURN_CREDENTIALS_PER_IP_PER_MINUTE must be at least 1"),
        # The placeholders of config/turnserver.conf and config/example.env, copied unchanged:
        (
            {"TURN_URLS": "turn:t:3478", "TURN_SECRET": "replace-with-a-long-random-string"},
            "TURN_SECRET is the placeholder of config/turnserver.conf: set a long random string, the same as coturn's static-auth-secret",
        ),
        ({"TURN_PASSWORD": "replace-with-a-long-random-string"}, "TURN_PASSWORD is the placeholder"),
        ({"STUN_URLS": "stun:stun.example.org:3478"}, "STUN_URLS names example.org, the placeholder of config/example.env"),
        ({"TURN_URLS": "turn:turn.example.org:3478?transport=udp"}, "TURN_URLS names example.org"),
        ({"UPLOAD_DECODERS": "0"}, "UPLOAD_DECODERS must be at least 1"),
        ({"UPLOAD_MAX_FILES": "0"}, "UPLOAD_MAX_FILES must be at least 1"),
        ({"UPLOAD_ROOM_FILES": "0"}, "UPLOAD_ROOM_FILES must be at least 1"),
        ({"UPLOAD_ROOM_BYTES": "1024"}, "UPLOAD_ROOM_BYTES must be at least UPLOAD_MAX_BYTES"),
        ({"CONNECT_TIMEOUT_SECONDS": "0"}, "CONNECT_TIMEOUT_SECONDS must be more than 0"),
        ({"MALFORMED_PACKETS": "0"}, "MALFORMED_PACKETS must be at least 1"),
    ],
)
def test_bad_settings_name_the_setting(environ, words):
    with pytest.raises(SettingsError, match=words):
        load_settings(environ=environ, dotenv_path=None)


def test_no_ice_servers_configured_means_an_empty_list():
    assert ice_servers(make_settings(), "peer", 0) == []


def test_turn_with_a_shared_secret_gives_time_limited_credentials_coturn_accepts():
    settings = make_settings(stun_urls=("stun:s:3478",), turn_urls=("turn:t:3478",), turn_secret="k", turn_ttl_seconds=600)
    stun, turn = ice_servers(settings, "peer1", now=1_000_000)
    assert stun == {"urls": ["stun:s:3478"]}
    assert turn["username"] == "1000600:peer1"
    expected = base64.b64encode(hmac.new(b"k", b"1000600:peer1", hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected and turn["urls"] == ["turn:t:3478"]


def test_turn_with_fixed_credentials():
    settings = make_settings(turn_urls=("turn:t:3478",), turn_username="u", turn_password="p")
    assert ice_servers(settings, "x", 0) == [{"urls": ["turn:t:3478"], "username": "u", "credential": "p"}]


def test_config_example_env_copied_unchanged_is_refused_at_start():
    with pytest.raises(SettingsError, match="STUN_URLS names example.org"):
        load_settings(environ={}, dotenv_path=ROOT / "config" / "example.env")


def test_an_old_env_file_that_still_sets_secret_key_loads_and_signs_nothing(tmp_path):
    """SECRET_KEY signed Flask sessions, which Ensemble never used: the setting is gone, and a
    .env (or environment) that still sets it is read as if it did not."""
    from ensemble import create_app

    dotenv = tmp_path / ".env"
    dotenv.write_text("SECRET_KEY=from-an-old-install\nPORT=6000\n")
    settings = load_settings(environ={"SECRET_KEY": "also-old"}, dotenv_path=dotenv, async_mode="threading", upload_folder=str(tmp_path))
    assert settings.port == 6000 and not hasattr(settings, "secret_key")
    assert create_app(settings).config["SECRET_KEY"] is None


def test_server_py_reads_async_mode_before_patching_as_the_settings_do(tmp_path, monkeypatch):
    """server.py picks gevent or eventlet before importing anything else, from the same sources
    and with the same .env syntax (quotes, comments, `export`) as ensemble.settings."""
    import server

    monkeypatch.delenv("ASYNC_MODE", raising=False)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "defaults.env").write_text("ASYNC_MODE=gevent\n")
    assert server.async_mode_before_imports(tmp_path) == "gevent"
    (tmp_path / ".env").write_text('# a comment\nexport ASYNC_MODE="eventlet"  # the second choice\n')
    assert server.async_mode_before_imports(tmp_path) == "eventlet"
    monkeypatch.setenv("ASYNC_MODE", "threading")
    assert server.async_mode_before_imports(tmp_path) == "threading"
