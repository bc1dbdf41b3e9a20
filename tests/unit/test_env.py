"""config.env.StrictEnv: what each kind of value accepts, and what it refuses by name."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import StrictEnv


def env_of(**values):
    env = StrictEnv()
    env.ENVIRON = values
    return env


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " y "])
def test_booleans_read_true(raw):
    assert env_of(FLAG=raw).bool("FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", "n", ""])
def test_booleans_read_false(raw):
    assert env_of(FLAG=raw).bool("FLAG") is False


@pytest.mark.parametrize("raw", ["ture", "enabled", "2", "nope"])
def test_a_boolean_that_is_neither_is_refused(raw):
    with pytest.raises(ImproperlyConfigured, match=f"FLAG='{raw}'"):
        env_of(FLAG=raw).bool("FLAG")


def test_unset_takes_the_default_and_no_default_is_refused():
    assert env_of().bool("FLAG", default=True) is True
    assert env_of().int("SIZE", default=3) == 3
    with pytest.raises(ImproperlyConfigured, match="Set the environment variable SIZE"):
        env_of().int("SIZE")


def test_numbers():
    assert env_of(SIZE=" 42 ").int("SIZE") == 42
    assert env_of(RATE="2.5").float("RATE") == 2.5
    with pytest.raises(ImproperlyConfigured, match="SIZE='4k': must be a whole number"):
        env_of(SIZE="4k").int("SIZE")
    with pytest.raises(ImproperlyConfigured, match="SIZE='2.5': must be a whole number"):
        env_of(SIZE="2.5").int("SIZE")
    with pytest.raises(ImproperlyConfigured, match="RATE='fast': must be a number"):
        env_of(RATE="fast").float("RATE")
