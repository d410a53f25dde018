"""A throwaway PostgreSQL server the fault tests may stop, start and configure (TLS on)."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; CI and these machines run tests as root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, directory: Path, *, tls: bool = False) -> None:
        if PG_BIN is None or shutil.which("runuser") is None:
            pytest.skip("PostgreSQL server binaries are not installed")
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.tls = tls
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{directory}'",
            "fsync = off",
            "max_connections = 50",
        ]
        if tls:
            self._make_certificate()
            settings += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")

    def url(self, query: str = "") -> str:
        return f"postgresql://postgres@localhost:{self.port}/postgres{query}"

    @property
    def ca_file(self) -> Path:
        return self.directory / "root.crt"

    def start(self) -> None:
        log = self.directory / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def _run(self, tool: str, *args: str) -> None:
        assert PG_BIN is not None
        subprocess.run(
            [*_as_postgres(), str(PG_BIN / tool), *args], check=True, capture_output=True
        )

    def _make_certificate(self) -> None:
        """A CA and a server certificate for `localhost`, so verify-full can be checked."""
        ca_key, ca_crt = self.directory / "root.key", self.ca_file
        key, csr, crt = (
            self.data / "server.key",
            self.directory / "server.csr",
            self.data / "server.crt",
        )
        self.data.mkdir(exist_ok=True)
        openssl = ["openssl"]
        subprocess.run(
            [
                *openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=todo-api test CA",
                "-keyout",
                str(ca_key),
                "-out",
                str(ca_crt),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *openssl,
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                str(key),
                "-out",
                str(csr),
            ],
            check=True,
            capture_output=True,
        )
        extensions = self.directory / "san.ext"
        extensions.write_text("subjectAltName=DNS:localhost\n")
        subprocess.run(
            [
                *openssl,
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(ca_crt),
                "-CAkey",
                str(ca_key),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                str(extensions),
                "-out",
                str(crt),
            ],
            check=True,
            capture_output=True,
        )
        if os.geteuid() == 0:
            for path in (key, crt):
                shutil.chown(path, "postgres", "postgres")
        key.chmod(0o600)
