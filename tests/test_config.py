"""Settings from an environment mapping, and the documented example configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from ivr.config import DEVELOPMENT_AUTH_TOKEN, ConfigError, Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_the_example_documents_every_setting_and_parses() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = [
        Settings.env_name(f) for f in Settings.model_fields if Settings.env_name(f) not in text
    ]
    assert missing == []
    values = {k: v for k, v in dotenv_values(EXAMPLE).items() if v is not None}
    settings = Settings.from_environ(values)
    assert settings.is_production
    assert settings.database_url == "sqlite:///var/ivr.db"


def test_values_come_from_the_mapping_given_not_the_process() -> None:
    settings = Settings.from_environ(
        {"IVR_DATABASE_URL": "sqlite:///x.db", "TWILIO_AUTH_TOKEN": "t", "IVR_ENVIRONMENT": "test"}
    )
    assert (settings.database_url, settings.twilio_auth_token) == ("sqlite:///x.db", "t")
    assert not settings.is_production


def test_production_refuses_to_skip_signatures() -> None:
    with pytest.raises(ConfigError, match="IVR_SKIP_SIGNATURE_CHECK may only be set"):
        Settings.from_environ({"IVR_SKIP_SIGNATURE_CHECK": "true"})


def test_production_fetches_recordings_only_from_twilio() -> None:
    with pytest.raises(ConfigError, match="IVR_TWILIO_API_BASE must be an https"):
        Settings.from_environ({"IVR_TWILIO_API_BASE": "http://127.0.0.1:9000"})
    dev = Settings.from_environ(
        {"IVR_ENVIRONMENT": "development", "IVR_TWILIO_API_BASE": "http://127.0.0.1:9000"}
    )
    assert dev.twilio_api_base == "http://127.0.0.1:9000"


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="IVR_RELOAD_INTERVAL"):
        Settings.from_environ({"IVR_RELOAD_INTERVAL": "soon"})


def test_a_production_server_needs_a_token_and_its_public_address() -> None:
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is not set"):
        Settings.from_environ({}).check_can_serve()
    with pytest.raises(ConfigError, match="IVR_PUBLIC_URL is not the address Twilio calls"):
        Settings.from_environ({"TWILIO_AUTH_TOKEN": "t"}).check_can_serve()
    with pytest.raises(ConfigError, match="IVR_SECRET_KEY is not set"):
        Settings.from_environ(
            {"TWILIO_AUTH_TOKEN": "t", "IVR_PUBLIC_URL": "https://ivr.example.org"}
        ).check_can_serve()
    with pytest.raises(ConfigError, match="shorter than 32 characters"):
        Settings.from_environ(
            {
                "TWILIO_AUTH_TOKEN": "t",
                "IVR_PUBLIC_URL": "https://ivr.example.org",
                "IVR_SECRET_KEY": "short",
            }
        ).check_can_serve()
    Settings.from_environ(
        {
            "TWILIO_AUTH_TOKEN": "t",
            "IVR_PUBLIC_URL": "https://ivr.example.org",
            "IVR_SECRET_KEY": "s" * 32,
        }
    ).check_can_serve()
    Settings.from_environ({"IVR_ENVIRONMENT": "development"}).check_can_serve()


def test_console_cookies_are_secure_in_production_unless_set_otherwise() -> None:
    assert Settings.from_environ({}).cookies_secure
    assert not Settings.from_environ({"IVR_ENVIRONMENT": "development"}).cookies_secure
    assert Settings.from_environ(
        {"IVR_ENVIRONMENT": "development", "IVR_SECURE_COOKIES": "true"}
    ).cookies_secure
    assert not Settings.from_environ({"IVR_SECURE_COOKIES": "false"}).cookies_secure


def test_the_secret_key_never_shows_in_the_settings_repr() -> None:
    settings = Settings.from_environ({"IVR_SECRET_KEY": "very-secret-" * 4})
    assert "very-secret" not in repr(settings)


def test_only_a_development_server_has_a_default_account() -> None:
    dev = Settings.from_environ({"IVR_ENVIRONMENT": "development"})
    assert dev.twilio_auth_token == DEVELOPMENT_AUTH_TOKEN
    assert dev.twilio_account_sid.startswith("AC") and len(dev.twilio_account_sid) == 34
    mine = Settings.from_environ({"IVR_ENVIRONMENT": "development", "TWILIO_AUTH_TOKEN": "mine"})
    assert mine.twilio_auth_token == "mine"
    assert Settings.from_environ({}).twilio_auth_token == ""
    assert Settings.from_environ({"IVR_ENVIRONMENT": "test"}).twilio_auth_token == ""


def test_a_retired_setting_is_named_with_what_replaced_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_CALLBACK_EXPIRY_HOURS": "24"})
    assert settings.callback_expiry_days == 3
    assert [r.getMessage() for r in caplog.records] == [
        "IVR_CALLBACK_EXPIRY_HOURS is no longer read; set IVR_CALLBACK_EXPIRY_DAYS, which"
        " counts the days calls may be made on after the slot"
    ]


def test_a_dotenv_file_fills_in_what_the_environment_does_not_set(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "IVR_DATABASE_URL=sqlite:///from-file.db\n"
        "IVR_LOG_LEVEL=DEBUG\n"
        "TWILIO_AUTH_TOKEN=file-token\n"
        "IVR_NOT_A_SETTING=ignored\n",
        encoding="utf-8",
    )
    settings = Settings.from_environ(
        {"IVR_LOG_LEVEL": "WARNING", "IVR_DATABASE_URL": ""}, env_file=env_file
    )
    # The environment wins; an empty variable is no value, so the file's stands.
    assert settings.log_level == "WARNING"
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.twilio_auth_token == "file-token"
    missing = Settings.from_environ({}, env_file=tmp_path / "absent.env")
    assert missing.database_url == "sqlite:///var/ivr.db"


def test_a_bad_value_in_the_dotenv_file_names_its_variable(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("IVR_CALLBACK_MAX_ATTEMPTS=0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="IVR_CALLBACK_MAX_ATTEMPTS: Input should be greater"):
        Settings.from_environ({}, env_file=env_file)


def test_building_settings_never_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", "sqlite:///process.db")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "process-token")
    settings = Settings.from_environ({})
    assert (settings.database_url, settings.twilio_auth_token) == ("sqlite:///var/ivr.db", "")
