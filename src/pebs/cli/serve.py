"""``pebs serve``: run the web site and the API with uvicorn.

Behind a reverse proxy, ``--forwarded-allow-ips`` lists the proxies whose ``X-Forwarded-For``
header is believed: only a request arriving from one of them gets the client address that header
names (the address login throttling counts); by default no proxy is trusted and the address is
the connection's. The port is checked before the site is announced.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated, Any

import typer

from pebs.cli.db import load_settings

APP_FACTORY = "pebs.server:served_site"
"""The app factory, by import string: uvicorn imports it in the server process (and in each
worker), so the command line does not import the API itself."""


class PortUnavailable(Exception):  # noqa: N818 (the name the error table maps)
    """The server cannot listen on the address and port asked for (taken, or not this
    machine's)."""


def trusted_proxies(text: str) -> list[str]:
    """The addresses and networks of ``--forwarded-allow-ips`` (comma-separated), checked.

    >>> trusted_proxies(" 10.0.0.5, 192.0.2.0/24 ,::1"), trusted_proxies("")
    (['10.0.0.5', '192.0.2.0/24', '::1'], [])
    """
    proxies = [item.strip() for item in text.split(",") if item.strip()]
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            detail = (
                "trusting every address would let any client choose its own"
                if item == "*"
                else "not an IP address or network"
            )
            raise typer.BadParameter(
                f"{item[:80]!r}: {detail}; list the proxies' addresses or networks "
                "(10.0.0.5,192.0.2.0/24)",
                param_hint="--forwarded-allow-ips",
            ) from None
    return proxies


def uvicorn_options(host: str, port: int, workers: int, proxies: list[str]) -> dict[str, Any]:
    """The keyword arguments ``pebs serve`` gives uvicorn: ``X-Forwarded-*`` headers are read
    only from ``proxies`` (none: never)."""
    return {
        "host": host, "port": port, "workers": workers, "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies, "server_header": False, "log_level": "info",
    }  # fmt: skip


def check_port_free(host: str, port: int) -> None:
    """:class:`PortUnavailable` unless a server could listen on ``host``:``port`` now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise PortUnavailable(f"--host {host[:80]!r}: unknown address ({exc.strerror})") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise PortUnavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}): another server may be "
                "using the port; stop it or choose another --port"
            ) from exc


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Reverse proxies (addresses or networks, comma-separated) whose "
            "X-Forwarded-For header gives the client's address; default: none is trusted."
        ),
    ] = "",
    pin_cpu: Annotated[
        bool,
        typer.Option(
            help="Keep each server process on one CPU (Linux): its threads then hand work to "
            "each other on one core, which costs less than across cores."
        ),
    ] = True,
) -> None:
    """Serve the web site and the REST API (``/api/v1``; ``/api/openapi.json``) until Ctrl-C."""
    import os

    import uvicorn

    from pebs.http.worker_cpu import PIN_CPU_VARIABLE
    from pebs.services.trial import open_database  # imported when used

    proxies = trusted_proxies(forwarded_allow_ips)
    settings = load_settings()
    open_database(settings.database_url).close()  # refuses an unreachable or old database
    check_port_free(host, port)
    from pebs.services.operations import hold_serving_lock  # 'pebs db restore' refuses while held

    _serving = hold_serving_lock(settings.database_url)  # released when the server stops
    os.environ[PIN_CPU_VARIABLE] = "1" if pin_cpu else "0"  # read by each worker's factory
    typer.echo(f"pebs: serving the site at http://{host}:{port}/ (API at /api/v1; Ctrl-C to stop)")
    uvicorn.run(APP_FACTORY, factory=True, **uvicorn_options(host, port, workers, proxies))
