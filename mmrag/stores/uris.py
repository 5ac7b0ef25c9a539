"""Store URIs as pure functions, importable without any database client.

Which backend a ``--store`` value means is decided here, so the CLI and
``open_store`` agree and a Milvus user never imports the Weaviate client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mmrag.errors import StoreError

CLOUD_SUFFIXES = (".weaviate.cloud", ".weaviate.network")


@dataclass(frozen=True)
class WeaviateTarget:
    """Where a Weaviate server is: a custom host/port pair, or a Weaviate Cloud cluster URL."""

    http_host: str
    http_port: int = 8080
    http_secure: bool = False
    grpc_host: str | None = None
    grpc_port: int = 50051
    grpc_secure: bool | None = None
    cloud: bool = False

    def connect_kwargs(self, api_key: str | None) -> tuple[str, dict[str, Any]]:
        """``(name of the weaviate.connect_to_* helper, its keyword arguments)``."""
        if self.cloud:
            if not api_key:
                raise StoreError("Weaviate Cloud needs an API key: set WEAVIATE_API_KEY")
            return "connect_to_weaviate_cloud", {"cluster_url": self.http_host, "auth_credentials": api_key}
        kwargs: dict[str, Any] = {
            "http_host": self.http_host,
            "http_port": self.http_port,
            "http_secure": self.http_secure,
            "grpc_host": self.grpc_host or self.http_host,
            "grpc_port": self.grpc_port,
            "grpc_secure": self.http_secure if self.grpc_secure is None else self.grpc_secure,
        }
        if api_key:
            kwargs["auth_credentials"] = api_key
        return "connect_to_custom", kwargs


def parse_milvus_uri(uri: str) -> tuple[str, bool]:
    """``(uri for MilvusClient, is_lite)``: a ``*.db`` path or ``milvus:///path.db``
    is a Milvus Lite file; ``milvus://host:port`` and ``http(s)://`` are servers."""
    if uri.startswith("milvus:///"):
        return uri[len("milvus://") :], True
    if uri.startswith("milvus://"):
        return "http://" + uri[len("milvus://") :], False
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri, False
    if uri.endswith(".db"):
        return uri, True
    raise StoreError(
        f"unrecognised Milvus URI {uri!r}: use a path ending in .db (Milvus Lite), "
        "milvus:///path.db, milvus://host:19530 or http(s)://host:port"
    )


def is_weaviate_uri(uri: str) -> bool:
    """``weaviate://...`` or an ``https://`` Weaviate Cloud cluster URL."""
    if uri.startswith("weaviate://"):
        return True
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and (parts.hostname or "").endswith(CLOUD_SUFFIXES)


def parse_weaviate_uri(uri: str) -> WeaviateTarget:
    """``weaviate://host:8080?grpc_port=50051&secure=true&grpc_host=h`` or
    ``https://<cluster>.weaviate.cloud`` to a ``WeaviateTarget``."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and (parts.hostname or "").endswith(CLOUD_SUFFIXES):
        return WeaviateTarget(http_host=uri, http_port=443, http_secure=True, cloud=True)
    if parts.scheme != "weaviate" or not parts.hostname:
        raise StoreError(
            f"unrecognised Weaviate URI {uri!r}: use weaviate://host:8080[?grpc_port=50051&secure=true] "
            "or https://<cluster>.weaviate.cloud"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"grpc_port", "grpc_host", "secure", "grpc_secure"}
    if unknown:
        raise StoreError(f"unknown Weaviate URI option(s) {sorted(unknown)}; valid: grpc_port, grpc_host, secure, grpc_secure")

    def flag(name: str) -> bool | None:
        if name not in query:
            return None
        if query[name].lower() not in ("true", "false", "1", "0"):
            raise StoreError(f"Weaviate URI option {name}={query[name]!r}: use true or false")
        return query[name].lower() in ("true", "1")

    secure = bool(flag("secure"))
    return WeaviateTarget(
        http_host=parts.hostname,
        http_port=parts.port or (443 if secure else 8080),
        http_secure=secure,
        grpc_host=query.get("grpc_host"),
        grpc_port=int(query.get("grpc_port", 50051)),
        grpc_secure=flag("grpc_secure"),
    )
