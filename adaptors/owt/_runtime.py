"""The host runtime C calls into: ``configure(config)`` once per worker,
``handle(...)`` once per request (docs/ARCHITECTURE.md, "The C <-> Python contract").
"""

from __future__ import annotations

import builtins
import inspect
import os
import sys
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import threading

from owt import _aio, _alarm, _log, _report, _tickets, server
from owt._adaptors import AdaptorDirs, scan
from owt._alarm import Timeout
from owt._coerce import Result, coerce
from owt._compile import LRU, Warm, build, reset_probe
from owt._errors import (
    AdaptorError,
    AdaptorTimeout,
    BadRequest,
    Forbidden,
    NotFound,
    OwtError,
    adaptor_error,
    timeout_error,
)
from owt._kwargs import decode
from owt._kwargs import DICT as _KWARGS_DICT
from owt._signature import check_call
from owt.request import _here as _request_here
from owt.request import _this_thread as _this_request

__all__ = [
    "configure",
    "handle",
    "stats",
    "current_config",
    "OwtError",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "AdaptorError",
    "AdaptorTimeout",
    "Timeout",
]

DEFAULT_MAX_ADAPTORS = 256
_ZERO_DIGEST = bytes(32)

_config: dict[str, Any] = {}
_dirs = AdaptorDirs([])
_base: dict[str, Any] = {}
_warm = LRU(DEFAULT_MAX_ADAPTORS)
_warm_items = _warm.items  # read without a lock on the warm path (handle)
_named = LRU(DEFAULT_MAX_ADAPTORS)
_compiled = 0
_building: dict[bytes, threading.Lock] = {}
"""Cold adaptors being built, by digest: a second thread that needs one waits for the first."""
_building_guard = threading.Lock()
_no_code = False



def _base_namespace(dirs: list[str]) -> dict[str, Any]:
    import owt

    namespace: dict[str, Any] = {
        name: module for name, module in scan(dirs).items() if not hasattr(builtins, name)
    }
    for name in owt.__all__:
        namespace[name] = getattr(owt, name)
    namespace["_SERVER"] = server.Server.sing()
    return namespace


def _set_executable(path: str) -> None:
    sys.executable = path
    spawn = sys.modules.get("multiprocessing.spawn")
    if spawn is not None:
        spawn.set_executable(path)


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def configure(config: Mapping[str, Any]) -> None:
    """Set the worker up: adaptor directories, LRU bound, stdio, SIGALRM, sys.executable.

    config keys (all optional here): ``adaptor_dirs``, ``max_adaptors``,
    ``debug``, ``no_code``, ``allow_shell``, ``python_executable``,
    ``timeout`` (seconds, for messages), ``threads`` (how many request
    threads share this interpreter; 0 or absent: requests run in the main
    thread, SIGALRM keeps the time), ``address``/``port`` (reported by
    ``Server.sing()`` outside a request) and ``redirect_stdio`` (default
    True: ``print`` goes to the error log). Other keys are kept for
    :func:`current_config`. Calling it again drops every warm adaptor.
    """
    global _config, _dirs, _base, _no_code
    cfg = dict(config)
    dirs = [os.path.abspath(str(d)) for d in cfg.get("adaptor_dirs") or []]
    cfg["adaptor_dirs"] = dirs
    for directory in dirs:
        if directory not in sys.path:
            sys.path.append(directory)
    size = int(cfg.get("max_adaptors", DEFAULT_MAX_ADAPTORS))
    cfg["max_adaptors"] = size
    for key in ("debug", "no_code", "allow_shell"):
        cfg[key] = bool(cfg.get(key, False))
    executable = cfg.get("python_executable")
    if executable:
        _set_executable(str(executable))
    server.configure(cfg.get("address"), cfg.get("port"))
    if cfg.get("redirect_stdio", True):
        _log.install_stdio()
    cfg["threads"] = int(cfg.get("threads") or 0)
    if cfg["threads"]:
        # Requests run in threads: the server interrupts them by ticket.
        _alarm.install_message(_seconds(cfg.get("timeout")))
        _tickets.install_sleep()
        _aio.enable()
    elif not _alarm.install(_seconds(cfg.get("timeout"))):
        _log.log(_log.WARNING, "could not install the SIGALRM handler: timeouts will not interrupt Python")
    _warm.clear()
    _named.clear()
    _warm.size = size
    _named.size = size
    reset_probe()
    _config = cfg
    _no_code = cfg["no_code"]
    _dirs = AdaptorDirs(dirs)
    _base = _base_namespace(dirs)
    _report.warm(0, 0, _compiled)  # hook: warm-adaptor counts for /_owt/status


def current_config() -> Mapping[str, Any]:
    """The worker's configuration as given to :func:`configure` (read-only use)."""
    return _config


def stats() -> dict[str, int]:
    """Counters for ``/_owt/status``."""
    return {
        "warm_adaptors": len(_warm),
        "named_adaptors": len(_named),
        "max_adaptors": _warm.size,
        "compiled": _compiled,
    }


def _named_adaptor(adaptor: str, fn_name: str) -> Callable[..., Any]:
    key = (adaptor, fn_name)
    fn = _named.get(key)
    if fn is None:
        fn = _dirs.resolve(adaptor, fn_name)
        _named.put(key, fn)
        _report.warm(len(_warm), len(_named), _compiled)  # hook
    return fn


def _warm_adaptor(code: str, fn_name: str, digest: bytes) -> Warm:
    """The warm adaptor for digest, held for the caller (release it when the
    reply is done). Built on first use; a thread that needs one another
    thread is building waits for it instead of building it twice."""
    global _compiled
    warm = _warm.get(digest)
    if warm is not None and warm.hold():
        return warm
    with _building_guard:
        lock = _building.get(digest)
        if lock is None:
            lock = _building[digest] = threading.Lock()
    while not lock.acquire(timeout=0.05):  # short waits: a Timeout can land between them
        pass
    try:
        warm = _warm.get(digest)
        if warm is None or not warm.hold():
            warm = build(code, fn_name, digest, _base)
            _compiled += 1
            warm.hold()
            _warm.put(digest, warm)
            _report.warm(len(_warm), len(_named), _compiled)  # hook
    finally:
        with _building_guard:
            if _building.get(digest) is lock:
                del _building[digest]
        lock.release()
    return warm


def _resolve(code: str | None, adaptor: str | None, fn_name: str,
             digest: bytes | None) -> tuple[Callable[..., Any], Warm | None]:
    """The callable to run, and the warm adaptor it belongs to (held), if any."""
    if adaptor:
        return _named_adaptor(adaptor, fn_name), None
    if code is None:
        raise BadRequest("no code: send code_b64 or code (or adaptor for a named adaptor)")
    if _config.get("no_code"):
        raise Forbidden("this server runs named adaptors only (--no-code)")
    if not digest or digest == _ZERO_DIGEST:
        import hashlib  # C sends the digest; this is the fallback

        digest = hashlib.sha256(fn_name.encode() + b"\0" + code.encode("utf-8", "surrogatepass")).digest()
    warm = _warm_adaptor(code, fn_name, digest)
    return warm.fn, warm


def _binds(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


_positional_last: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _takes_last_positionally(fn: Callable[..., Any]) -> bool:
    try:
        return _positional_last[fn]
    except (KeyError, TypeError):
        pass
    answer = _binds(fn, (), {"__last__": None}) is False and bool(_binds(fn, (None,), {}))
    try:
        _positional_last[fn] = answer
    except TypeError:
        pass
    return answer


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """fn(**kwargs); a bare value (only ``__last__``) goes positionally to a
    function that cannot take ``__last__`` but takes one argument.

    kwargs that do not fit fn's signature are a 400 (owt._signature). That is
    only looked into when the call raised TypeError with no frame of fn's own
    in its traceback (Python raises it while binding the arguments, before
    fn runs): a call that binds costs nothing extra.
    """
    if len(kwargs) == 1 and "__last__" in kwargs and _takes_last_positionally(fn):
        return fn(kwargs["__last__"])
    try:
        return fn(**kwargs)
    except TypeError as exc:
        tb = exc.__traceback__
        if tb is not None and tb.tb_next is None:
            check_call(fn, kwargs)  # raises BadRequest when the arguments did not fit
        raise


_TEXT_HEADER = ("Content-Type", "text/plain; charset=utf-8")
_HTML_HEADER = ("Content-Type", "text/html; charset=utf-8")
_TEXT_HEAD = (_TEXT_HEADER,)  # shared and immutable: C reads a tuple of headers as it reads a list
_HTML_HEAD = (_HTML_HEADER,)


def handle(
    code: str | None,
    adaptor: str | None,
    fn_name: str | None,
    kwargs_text: str | None,
    kwargs_kind: int | None,
    digest: bytes | None,
    environ: Mapping[str, str],
    body: bytes,
    path: str | None,
    ticket: int = 0,
) -> Result:
    """Run one request: (status, headers, body, chunks), exactly one of body/chunks set.

    ticket is nonzero in a threaded worker, where the server can interrupt
    this request from another thread (lib/owt_py.c). Raises an
    :class:`OwtError` subclass whose ``.kind`` C maps to a status.

    This is every request's path: a warm adaptor returning text takes no
    detour through :func:`_resolve`, :func:`_call` or :func:`coerce`.
    """
    if kwargs_kind == _KWARGS_DICT:
        kwargs: Any = kwargs_text  # C built it from a flat JSON object: the common case
    else:
        kwargs = decode(kwargs_text, kwargs_kind) if kwargs_text else {}
    # owt.request for this thread: built into a Request only if something reads it.
    outer = _request_here.raw
    _request_here.raw = (environ if environ is not None else {}, body or b"", path)
    if not ticket:
        _alarm.enter()  # CGI: SIGALRM may raise Timeout from now on
    warm: Warm | None = None
    try:
        # The warm hit, inline (the common case): the adaptor held for this
        # request without a lock, a dict read and a list append (Warm).
        if digest and code is not None and not adaptor and not _no_code:
            warm = _warm_items.get(digest)
            if warm is not None:
                warm.users.append(None)
                if warm.evicted:  # evicted after the lookup: do not touch its emptied module
                    warm.release()
                    warm = None
        if warm is not None:
            fn = warm.fn
            try:
                _warm_items.move_to_end(digest)  # the most recently used (owt._compile.LRU)
            except KeyError:  # evicted meanwhile
                pass
        else:
            fn, warm = _resolve(code, adaptor, fn_name or "run", digest)
        try:
            if len(kwargs) == 1 and "__last__" in kwargs:
                value = _call(fn, kwargs)
            else:
                value = fn(**kwargs)
        except TypeError as exc:
            # Raised while binding the arguments (no frame of fn's own in the
            # traceback): kwargs that do not fit are a 400 naming the signature.
            tb = exc.__traceback__
            if tb is not None and tb.tb_next is None:
                check_call(fn, kwargs)
            raise
        if type(value) is str:
            return (200, _HTML_HEAD if value.lstrip().startswith("<") else _TEXT_HEAD,
                    value.encode("utf-8", "replace"), None)
        result = coerce(value, _this_request())
        if warm is not None and result[3] is not None:
            result[3].on_done, warm = warm.release, None  # in use until the stream ends
        return result
    except OwtError:
        raise
    except Timeout as exc:
        raise timeout_error(exc) from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - everything the adaptor raises is a 500
        raise adaptor_error(exc) from None
    finally:
        if not ticket:
            _alarm.leave()
        _request_here.raw = outer
        if warm is not None:
            warm.release()
