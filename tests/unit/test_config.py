"""Configuration: safe defaults, a TOML file, then EXCHANGE_<SECTION>_<KEY> variables; anything
unknown, missing, weak or of the wrong type stops the start with one sentence naming the key."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from forum import create_app
from forum.config import DEFAULTS, ConfigError, database_url, load_settings

STRONG = secrets.token_urlsafe(48)


@pytest.fixture(autouse=True)
def _away_from_any_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # load_settings looks for instance/exchange.toml under the working directory.
    monkeypatch.chdir(tmp_path)


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "exchange.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _stops(naming: str, **kwargs: object) -> str:
    """The settings refuse to load with one sentence that names `naming`; returns it."""
    kwargs.setdefault("environ", {})
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert naming in message, message
    assert "\n" not in message and message.endswith("."), f"not one sentence: {message!r}"
    assert message.count(". ") == 0, f"more than one sentence: {message!r}"
    return message


def test_an_unknown_key_in_the_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[app]\nsecret_key = "{STRONG}"\ncolour = "blue"\n')
    _stops("app.colour", path=path)


def test_an_unknown_section_in_the_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[app]\nsecret_key = "{STRONG}"\n[appearance]\ntheme = "dark"\n')
    _stops("[appearance]", path=path)


def test_a_missing_secret_stops_the_start_and_says_how_to_set_it() -> None:
    message = _stops("app.secret_key")
    assert "EXCHANGE_APP_SECRET_KEY" in message


@pytest.mark.parametrize(
    "weak",
    ["dev", "changeme", "short-but-random-9f2", "a" * 64, "abababababababababababababababab"],
)
def test_a_weak_secret_stops_the_start(weak: str) -> None:
    _stops("app.secret_key", overrides={"app": {"secret_key": weak}})


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[server]\nport = "eighty"\n', "server.port"),
        ('[security]\ncookie_secure = "maybe"\n', "security.cookie_secure"),
        ("[app]\nbase_url = 42\n", "app.base_url"),
        ("[scheduler]\nenabled = 1\n", "scheduler.enabled"),
        ("[delivery]\nmax_attempts = true\n", "delivery.max_attempts"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[delivery]\nbatch_size = 0\n", "delivery.batch_size"),
        ('[database]\nurl = "mysql://db/exchange"\n', "database.url"),
        ('[push]\ncontact = "the operator"\n', "push.contact"),
        ('[push]\ncontact = "http://insecure.example.org"\n', "push.contact"),
        ('[push]\nallow_hosts = "push.internal, 10.0.0.0/33"\n', "push.allow_hosts"),
        ("[push]\nurgent_ttl_seconds = 0\n", "push.urgent_ttl_seconds"),
    ],
)
def test_a_value_of_the_wrong_type_or_range_stops_the_start_naming_the_key(
    tmp_path: Path, body: str, key: str
) -> None:
    path = _file(tmp_path, f'[app]\nsecret_key = "{STRONG}"\n' + body.replace("[app]\n", ""))
    _stops(key, path=path)


@pytest.mark.parametrize(
    ("bounce_address", "bounce_listen"),
    [
        ("bounces@exchange.example.org", ""),
        ("bounces@exchange.example.org", "127.0.0.1:8026"),
        ("exchange-bounces@mail.exchange.example.org", "[::1]:8026"),
        ("bounces@exchange.example.org", "bounce-receiver.internal:2525"),
    ],
)
def test_bounce_settings_of_the_right_shape_are_taken(bounce_address: str, bounce_listen: str):
    mail = {"bounce_address": bounce_address, "bounce_listen": bounce_listen}
    settings = load_settings(overrides={"app": {"secret_key": STRONG}, "mail": mail}, environ={})
    assert settings["mail"]["bounce_listen"] == bounce_listen


@pytest.mark.parametrize(
    ("mail", "key"),
    [
        ({"bounce_address": "bounces"}, "mail.bounce_address"),
        ({"bounce_address": "bounces@localhost"}, "mail.bounce_address"),
        ({"bounce_address": "bounces+x@exchange.example.org"}, "mail.bounce_address"),
        ({"bounce_address": "a" * 22 + "@exchange.example.org"}, "mail.bounce_address"),
        (
            {"bounce_address": "b@exchange.example.org", "bounce_listen": "::1:8026"},
            "bounce_listen",
        ),
        ({"bounce_address": "b@exchange.example.org", "bounce_listen": "127.0.0.1:0"}, "listen"),
        ({"bounce_address": "b@exchange.example.org", "bounce_listen": "h:70000"}, "bounce_listen"),
        ({"bounce_listen": "127.0.0.1:8026"}, "mail.bounce_listen"),
    ],
)
def test_a_wrong_bounce_setting_stops_the_start_naming_it(mail: dict[str, str], key: str) -> None:
    _stops(key, overrides={"app": {"secret_key": STRONG}, "mail": mail})


def test_an_unknown_environment_variable_stops_the_start_naming_it() -> None:
    _stops("app.colour", environ={"EXCHANGE_APP_SECRET_KEY": STRONG, "EXCHANGE_APP_COLOUR": "b"})
    _stops(
        "EXCHANGE_LOOKS_THEME",
        environ={"EXCHANGE_APP_SECRET_KEY": STRONG, "EXCHANGE_LOOKS_THEME": "x"},
    )


def test_an_environment_variable_of_the_wrong_type_stops_the_start_naming_the_key() -> None:
    _stops("server.port", environ={"EXCHANGE_APP_SECRET_KEY": STRONG, "EXCHANGE_SERVER_PORT": "x"})


def test_a_missing_config_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    _stops("nowhere.toml", path=tmp_path / "nowhere.toml")


def test_a_broken_toml_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    path = _file(tmp_path, "[app\nsecret_key = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[app]\nsecret_key = "{STRONG}"\n[server]\nport = 9000\n')
    environ = {"EXCHANGE_SERVER_PORT": "9100", "EXCHANGE_SECURITY_COOKIE_SECURE": "false"}
    settings = load_settings(path, environ=environ)
    assert settings["server"]["port"] == 9100
    assert settings["security"]["cookie_secure"] is False
    assert settings["app"]["secret_key"] == STRONG


def test_the_config_file_comes_from_exchange_config(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[app]\nsecret_key = "{STRONG}"\nname = "Exchange Test"\n')
    settings = load_settings(environ={"EXCHANGE_CONFIG": str(path)})
    assert settings["app"]["name"] == "Exchange Test"


def test_the_defaults_are_safe() -> None:
    assert DEFAULTS["app"]["secret_key"] is None  # no built-in secret: the start needs one
    assert DEFAULTS["security"]["cookie_secure"] is True
    assert DEFAULTS["security"]["ratelimit_enabled"] is True
    assert DEFAULTS["server"]["host"] == "127.0.0.1"  # not reachable from the network by default
    for section, keys in DEFAULTS.items():
        for key, value in keys.items():
            if any(word in key for word in ("secret", "password", "token")):
                assert value in (None, ""), f"{section}.{key} ships a default secret"


def test_defaults_and_a_secret_give_the_embedded_sqlite_database(tmp_path: Path) -> None:
    settings = load_settings(environ={"EXCHANGE_APP_SECRET_KEY": STRONG})
    assert settings["security"]["cookie_secure"] is True
    assert database_url(settings).startswith("sqlite:///")
    assert database_url(settings).endswith("instance/exchange.db")


def test_a_postgresql_url_is_driven_by_psycopg_3() -> None:
    settings = load_settings(
        environ={
            "EXCHANGE_APP_SECRET_KEY": STRONG,
            "EXCHANGE_DATABASE_URL": "postgresql://exchange@127.0.0.1/exchange",
        }
    )
    assert database_url(settings) == "postgresql+psycopg://exchange@127.0.0.1/exchange"


def test_the_app_itself_refuses_to_start_on_a_weak_secret(instance: Path) -> None:
    with pytest.raises(ConfigError, match="app.secret_key"):
        create_app({"app": {"secret_key": "changeme", "instance_path": str(instance)}})


def test_the_example_config_documents_every_key() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    if not example.exists():
        pytest.fail("config.example.toml is missing (issue 2 asks for it)")
    text = example.read_text(encoding="utf-8")
    for section, keys in DEFAULTS.items():
        assert f"[{section}]" in text, f"config.example.toml has no [{section}] section"
        for key in keys:
            assert f"{key} =" in text or f"{key}=" in text, f"{section}.{key} is undocumented"


def test_an_instance_folder_named_in_the_environment_supplies_its_own_config(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "exchange.toml").write_text(
        '[app]\nsecret_key = "k8Jq2xV7mPz4Rw9Ls3Nd6Ht1Yb5Gc0Fa"\n[server]\nport = 9123\n',
        encoding="utf-8",
    )
    settings = load_settings(environ={"EXCHANGE_APP_INSTANCE_PATH": str(folder)})
    assert settings["server"]["port"] == 9123
    assert settings["app"]["instance_path"] == str(folder)
