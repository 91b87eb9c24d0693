"""The error every check raises."""


class ConfigError(ValueError):
    """A setting that cannot work; the message is one line naming the key and the allowed values."""
