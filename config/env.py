"""Reading settings from the environment, strictly: a value that does not parse stops the
start with the variable's name, instead of quietly becoming something else.

django-environ reads `HTTPS=ture` as false and `RELAY_RATE=20/s` as a traceback; here the
first refuses to start ("HTTPS must be one of true/false, 1/0, yes/no, on/off") and so
does the second, naming the variable.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})


class StrictEnv(environ.Env):
    def bool(self, var, default=environ.Env.NOTSET):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        word = raw.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise ImproperlyConfigured(f"{var}={raw!r}: must be one of true/false, 1/0, yes/no, on/off.")

    def int(self, var, default=environ.Env.NOTSET):
        return self._number(var, int, "a whole number", default)

    def float(self, var, default=environ.Env.NOTSET):
        return self._number(var, float, "a number", default)

    def _number(self, var, kind, what, default):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        try:
            return kind(raw.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{var}={raw!r}: must be {what}.") from None

    def _raw(self, var):
        return self.ENVIRON.get(var)

    def _default(self, var, default):
        if default is environ.Env.NOTSET:
            raise ImproperlyConfigured(f"Set the environment variable {var}.")
        return default
