"""A real S3 endpoint on 127.0.0.1 for the tests: moto's server in its own process.

With `auth=True` requests are authenticated (INITIAL_NO_AUTH_ACTION_COUNT), so wrong keys and IAM
denials fail the way they do on AWS; two IAM users: `f5ui` may do anything, `no-vtt` may not upload
`.vtt` files (to make one file of an export fail for real). moto cannot check presigned (query
string) signatures with authentication on, so presigned links are fetched from a server with
`auth=False`, which serves them without checking the signature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.helpers import free_port

BUCKET = "f5ui-test"
REGION = "us-east-1"
# The unauthenticated calls the set-up makes; after them every request must be signed by a known key.
SETUP_CALLS = 8


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class MotoS3:
    def __init__(self, log_dir: Path, auth: bool) -> None:
        self.auth = auth
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS) if auth else "inf"}
        log = open(log_dir / f"moto-{'auth' if auth else 'open'}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        if auth:
            self.keys = self._set_up()
        else:
            self.keys = {"f5ui": ("AKIATESTINGKEY00000", "testing-secret")}
            self.s3().create_bucket(Bucket=BUCKET)

    def _client(self, service: str, key: tuple[str, str] = ("setup", "setup")):  # noqa: ANN202 - a boto3 client
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id=key[0],
                            aws_secret_access_key=key[1], config=Config(signature_version="s3v4",
                                                                              s3={"addressing_style": "path"}))

    def _set_up(self) -> dict[str, tuple[str, str]]:
        iam = self._client("iam")
        keys = {}
        allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        deny_vtt = {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*.vtt"}
        for user, policy in (("f5ui", _policy(allow_all)), ("no-vtt", _policy(allow_all, deny_vtt))):
            iam.create_user(UserName=user)  # 3 calls per user
            iam.put_user_policy(UserName=user, PolicyName="test", PolicyDocument=policy)
            created = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (created["AccessKeyId"], created["SecretAccessKey"])
        self._client("s3", keys["f5ui"]).create_bucket(Bucket=BUCKET)  # call 7
        iam.list_users()  # call 8: the last unauthenticated one
        return keys

    def s3(self, user: str = "f5ui"):  # noqa: ANN201 - a boto3 S3 client
        return self._client("s3", self.keys[user])

    def env(self, user: str = "f5ui", **overrides: str) -> dict[str, str]:
        """The app's environment for this endpoint, as an operator would set it."""
        key_id, secret = self.keys[user] if user else ("", "")
        return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_CONFIG_FILE": "/nonexistent", "F5UI_S3_BUCKET": BUCKET, "F5UI_S3_ENDPOINT_URL": self.url,
                "F5UI_S3_PREFIX": "takes", **overrides}

    def keys_under(self, prefix: str) -> list[str]:
        listed = self.s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
