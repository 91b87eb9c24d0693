"""Every setting of a run, checked in one place before training: each error is one line
naming the key, the value and what is allowed (Hydra itself refuses unknown group
options such as `task=foo`, listing the available ones).

- rules.py: what a value may be (integers, numbers in a range, choices, safe names);
- settings.py: the rule of every setting, by dotted key;
- attention.py: the options of every attention;
- config.py: check_config, those rules and the settings that must agree;
- logger_login.py: a W&B logger needs a login.
"""

from .config import check_config
from .errors import ConfigError
from .logger_login import check_logger_login

__all__ = ["ConfigError", "check_config", "check_logger_login"]
