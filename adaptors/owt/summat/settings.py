"""Server settings the pipe steps obey: whether ``shell()`` and ``installing()`` may run.

The runtime can set ``owt.summat._settings["allow_shell"]``; when that key is absent,
``owt._runtime.current_config()`` (the dict given to ``owt._runtime.configure``) is asked.
Without either, shell stays refused.
"""

from __future__ import annotations

import sys
from typing import Any

_settings: dict[str, Any] = {}


def setting(name: str, default: Any = None) -> Any:
    """The value of server setting ``name``, or ``default`` when nothing sets it."""
    package = sys.modules.get("owt.summat")
    settings = getattr(package, "_settings", _settings)
    if isinstance(settings, dict) and name in settings:
        return settings[name]
    config = _runtime_config()
    if config is not None and name in config:
        return config[name]
    return default


def shell_allowed() -> bool:
    """True when the server runs with ``--allow-shell``."""
    return bool(setting("allow_shell", False))


def install_allowed() -> bool:
    """True when the server runs with ``--allow-install`` and ``--venv DIR``."""
    return bool(setting("allow_install", False)) and bool(setting("venv", False))


def _runtime_config() -> Any:
    try:
        import owt._runtime as runtime
    except ImportError:
        return None
    getter = getattr(runtime, "current_config", None)
    if not callable(getter):
        return None
    config = getter()
    return config if hasattr(config, "__contains__") and hasattr(config, "__getitem__") else None
