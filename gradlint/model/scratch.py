"""The scratch area user code runs in, and the network it does not get.

Linting must not change anything outside a temporary directory, nor reach the network
(a model zoo's constructor downloads pretrained weights, a data module its data set).
The main process gives each worker a fresh temporary directory: its working directory
and every cache home a library writes to (``HOME``, ``TORCH_HOME``, ``HF_HOME``,
``XDG_CACHE_HOME``, ``TMPDIR``, ...), removed after the run. Inside the worker,
:func:`block_network` makes every connection to a non-local host fail at once and
records the host, so that a failed build says "tried to download from <host>" rather
than whatever error the library wrapped the refusal in.
"""

from __future__ import annotations

import os
import shutil
import site
import socket
import tempfile
from typing import Any

# environment variables that point libraries at a place to write (caches, configs, temp)
HOME_VARIABLES = (
    "HOME", "TORCH_HOME", "HF_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "TRANSFORMERS_CACHE", "HF_DATASETS_CACHE", "HUGGINGFACE_HUB_CACHE", "MPLCONFIGDIR",
    "TMPDIR", "TEMP", "TMP",
)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})

attempted: list[str] = []  # hosts user code tried to reach since the last clear()


class NetworkBlocked(ConnectionRefusedError):
    """What user code gets instead of a connection."""


def make_scratch() -> str:
    """A fresh temporary directory with the working directory ``work`` inside."""
    root = tempfile.mkdtemp(prefix="gradlint-scratch-")
    os.makedirs(os.path.join(root, "work"))
    return root


def scratch_env(env: dict[str, str], root: str) -> dict[str, str]:
    """``env`` with every cache home and the temp directory inside ``root``."""
    scratched = dict(env)
    # packages installed with `pip install --user` live under the real HOME: keep them importable
    scratched.setdefault("PYTHONUSERBASE", site.getuserbase())
    for name in HOME_VARIABLES:
        scratched[name] = os.path.join(root, name.lower())
        os.makedirs(scratched[name], exist_ok=True)  # code expects its home to exist
    return scratched


def remove_scratch(root: str) -> None:
    shutil.rmtree(root, ignore_errors=True)


def _host_of(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address) if isinstance(address, str) else ""


def _refuse(host: str, port: Any = None) -> None:
    where = f"{host}:{port}" if port not in (None, "", 0) else host
    if where not in attempted:
        attempted.append(where)
    raise NetworkBlocked(f"gradlint runs model code without network access (tried to connect to {where})")


def block_network() -> None:
    """Every connection to a non-local host, and every name lookup of one, raises
    :class:`NetworkBlocked` (a ``ConnectionRefusedError``) and is recorded. Local
    sockets (``AF_UNIX``, loopback) still work: multiprocessing and data loaders use them."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def is_remote(sock: socket.socket, address: Any) -> bool:
        family = getattr(socket, "AF_UNIX", None)
        return sock.family != family and _host_of(address) not in _LOCAL_HOSTS

    def connect(self: socket.socket, address: Any) -> Any:
        if is_remote(self, address):
            _refuse(_host_of(address), address[1] if isinstance(address, tuple) and len(address) > 1 else None)
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if is_remote(self, address):
            _refuse(_host_of(address), address[1] if isinstance(address, tuple) and len(address) > 1 else None)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if name not in _LOCAL_HOSTS:
            _refuse(name, port)
        return original_getaddrinfo(host, port, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo


def download_reason(hosts: list[str]) -> str:
    """The one-line reason a build that tried the network failed."""
    shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
    return (f"tried to download from {shown} (gradlint runs model code without network access): "
            "make the weights local or build the model without pretrained weights")
