"""The ``s3_assets`` provider of ``publish_asset``: a file in an S3-compatible bucket, a
presigned GET URL back.

Some vendors take their inputs by URL only (Luma's image-to-video keyframes:
``keyframes.frame0 = {"type": "image", "url": ...}``, Luma's OpenAPI document,
github.com/lumalabs/lumaai-api ``openapi.yaml``). This provider uploads the
file with boto3 and answers with a presigned ``GET`` URL (AWS Signature
Version 4, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html),
so the bucket stays private: whoever has the URL may read that one object
until it expires.

Configuration (environment):

- ``REELGRAPH_ASSET_URL=s3://BUCKET/PREFIX``: where files go; unset, the
  provider answers ``None`` (no publisher: a caller goes without);
- ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``): another S3-compatible
  service (MinIO, Cloudflare R2, a test server); boto3 reads it itself;
- credentials and region: boto3's usual chain (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``AWS_REGION``...).

Objects are named by content (``PREFIX/<sha256>.png``), so publishing the
same frame twice uploads it again under the same name and nothing piles up.
A SigV4 presigned URL lives at most 7 days (604800 s, the same AWS page); a
longer ``expires_s`` is capped there. Install with ``pip install
'reelgraph[s3]'``; without boto3 the plugin still loads (it is asked by every
run that publishes), and a configured ``REELGRAPH_ASSET_URL`` without boto3
is a :class:`~reelgraph.errors.ConfigurationError` naming the extra.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reelgraph import hookimpl
from reelgraph.errors import ConfigurationError, ProviderError, TransientError

__all__ = ["ASSET_URL_ENV", "INSTALL", "MAX_EXPIRES_S", "environment_variables", "publish_asset"]

INSTALL = "pip install 'reelgraph[s3]'"
ASSET_URL_ENV = "REELGRAPH_ASSET_URL"
#: SigV4 presigned URLs expire after at most 7 days (AWS, "Sharing objects with presigned URLs")
MAX_EXPIRES_S = 7 * 24 * 3600

_clients: dict[tuple[str | None, ...], Any] = {}
_clients_lock = threading.Lock()


def asset_location(value: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of an ``s3://bucket/prefix`` URL (prefix without slashes
    at either end, possibly empty).

    Raises:
        ConfigurationError: not an ``s3://`` URL with a bucket.
    """
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigurationError(
            f"{ASSET_URL_ENV}={value!r} is not s3://BUCKET/PREFIX (e.g. s3://my-frames/reelgraph)"
        )
    return parts.netloc, parts.path.strip("/")


@hookimpl
def publish_asset(path: Path, content_type: str, expires_s: float) -> str | None:
    """Upload ``path`` to ``REELGRAPH_ASSET_URL`` and return a presigned GET URL.

    Returns ``None`` when ``REELGRAPH_ASSET_URL`` is not set. The URL reads
    the object for ``expires_s`` seconds (at most 7 days).

    Raises:
        ConfigurationError: a malformed ``REELGRAPH_ASSET_URL``, boto3 not
            installed, no credentials, or the service refusing (no such
            bucket, access denied): the message names what to fix.
        TransientError: the service could not be reached or failed (5xx).
    """
    value = os.environ.get(ASSET_URL_ENV)
    if not value:
        return None
    bucket, prefix = asset_location(value)
    data = Path(path).read_bytes()
    key = "/".join(p for p in (prefix, hashlib.sha256(data).hexdigest() + Path(path).suffix) if p)
    client = _client()
    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        return str(
            client.generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket, "Key": key},
                ExpiresIn=max(1, min(int(expires_s), MAX_EXPIRES_S)),
            )
        )
    except Exception as err:
        found = _classify(err, bucket)
        if found is None:
            raise
        raise found from err


@hookimpl
def environment_variables() -> list[tuple[str, str]]:
    """What this provider reads from the environment, for ``reelgraph doctor``."""
    return [
        (ASSET_URL_ENV, "s3://BUCKET/PREFIX where frames are published for URL-only vendors"),
        ("AWS_ENDPOINT_URL", "another S3-compatible service (MinIO, R2, a test server)"),
    ]


def _client() -> Any:
    """One boto3 S3 client per endpoint and credentials (thread-safe, reused)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as err:
        raise ConfigurationError(
            f"{ASSET_URL_ENV} is set, but publishing needs boto3: {INSTALL}"
        ) from err
    key = tuple(
        os.environ.get(name)
        for name in (
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
            "AWS_REGION",
        )
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            # SigV4 everywhere: every region takes it, SigV2 is deprecated
            config = Config(signature_version="s3v4", retries={"max_attempts": 1})
            client = _clients[key] = boto3.client("s3", config=config)
    return client


def _classify(error: BaseException, bucket: str) -> ProviderError | None:
    """botocore's exceptions as reelgraph's (the message never holds a key)."""
    from botocore import exceptions as boto

    if isinstance(error, boto.NoCredentialsError | boto.PartialCredentialsError):
        return ConfigurationError(
            f"s3_assets: no AWS credentials for s3://{bucket} "
            "(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if isinstance(error, boto.EndpointConnectionError | boto.ConnectionClosedError):
        return TransientError(f"s3_assets: could not reach the storage service: {error}")
    if isinstance(error, boto.ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            return TransientError(f"s3_assets: s3://{bucket} answered {code or status}")
        return ConfigurationError(
            f"s3_assets: s3://{bucket} refused the upload ({code or status}); "
            f"check {ASSET_URL_ENV}, the bucket and the credentials' permissions"
        )
    return None
