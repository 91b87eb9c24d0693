"""Every setting of a run, checked in one place before training: each error is one line
naming the key, the value and what is allowed (Hydra itself refuses unknown group
options such as `task=foo`, listing the available ones).

- rules.py: what a value may be (integers, numbers in a range, choices, safe names, lists);
- settings.py: the rule of every setting, by dotted key;
- attention.py: the options of every attention;
- kernel_scaling.py: a kernel of finite radius needs ppSBN;
- device.py: a GPU or Triton setting needs that hardware where the run runs;
- path_names.py: folder names within the file system's NAME_MAX / PATH_MAX;
- config.py: check_config, those rules and the settings that must agree;
- command_line.py: macformer-train's command line (Hydra's own errors as one line too);
- logger_login.py: a W&B logger needs a login.
"""

from .config import check_config
from .errors import ConfigError
from .logger_login import check_logger_login

__all__ = ["ConfigError", "check_config", "check_logger_login"]
