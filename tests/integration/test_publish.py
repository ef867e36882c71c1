"""Safe publishing over real HTTP (moto's S3 server) and on a local store: conditional commits,
concurrent publishers, killed publishes, re-runs, encryption on every put."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from campaignflow.campaigns.publish import (
    PublishConflict,
    content_digest,
    is_published,
    publish,
    published,
    read_manifest,
)
from campaignflow.errors import StorageUnavailable
from campaignflow.io.storage import LocalStore, ObjectStore, S3Store

KEY = "google_ads/winback/dt=2024-03-01"
META = {"campaign": "winback", "dt": "2024-03-01", "destination": "google_ads", "counts": {"rows": 1}}


def files(tag: str) -> dict[str, bytes]:
    return {"audience-00001.csv": f"Email\n{tag}\n".encode(), "adds-00001.csv": b"Email\n"}


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "exports")
    endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
    return S3Store(f"s3://{bucket}/exports", endpoint_url=endpoint)


def test_publish_then_rerun_then_replace(store: ObjectStore) -> None:
    first = publish(store, KEY, files("a"), META, "run-1")
    assert first.state == "published" and is_published(store, KEY)
    manifest, got = published(store, KEY)  # type: ignore[misc]
    assert got == files("a") and manifest["schema_version"] == 1 and manifest["run_id"] == "run-1"
    assert manifest["content_sha256"] == content_digest(files("a")) and manifest["campaign"] == "winback"
    assert store.read_bytes(f"{KEY}/_SUCCESS").decode() == manifest["content_sha256"]

    again = publish(store, KEY, files("a"), META, "run-2")  # the same date re-run: same content
    assert again.state == "unchanged" and read_manifest(store, KEY)["run_id"] == "run-1"  # type: ignore[index]

    replaced = publish(store, KEY, files("b"), META, "run-3")
    assert replaced.state == "replaced" and published(store, KEY)[1] == files("b")  # type: ignore[index]
    assert replaced.manifest["previous"] == {"run_id": "run-1", "content_sha256": content_digest(files("a"))}
    folders = {k.split("/")[4] for k in store.list_keys(f"{KEY}/files")}
    assert folders == {content_digest(files("b"))[:16]}  # the replaced files are gone


def test_a_publish_killed_before_its_manifest_leaves_nothing_visible_and_the_rerun_completes(
    store: ObjectStore,
) -> None:
    publish(store, KEY, files("old"), META, "run-1")
    real = store.write_if

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt  # the worker dies between the data files and the manifest

    store.write_if = killed  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        publish(store, KEY, files("new"), META, "run-2")
    store.write_if = real  # type: ignore[method-assign]
    assert published(store, KEY)[1] == files("old")  # type: ignore[index]  # the old one is still whole
    assert publish(store, KEY, files("new"), META, "run-3").state == "replaced"
    assert published(store, KEY)[1] == files("new")  # type: ignore[index]


def test_a_publish_killed_before_success_is_invisible_until_the_rerun(store: ObjectStore) -> None:
    real = store.write_bytes

    def die_at_success(key: str, data: bytes) -> None:
        if key.endswith("_SUCCESS"):
            raise KeyboardInterrupt
        real(key, data)

    store.write_bytes = die_at_success  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        publish(store, KEY, files("a"), META, "run-1")
    store.write_bytes = real  # type: ignore[method-assign]
    assert read_manifest(store, KEY) is not None and not is_published(store, KEY) and published(store, KEY) is None
    assert publish(store, KEY, files("a"), META, "run-2").state == "completed" and is_published(store, KEY)


def racing(store: ObjectStore, n: int) -> Callable[..., None]:
    """Make ``n`` publishers read the current manifest before any of them commits."""
    barrier, real = threading.Barrier(n, timeout=30), store.write_if

    def write_if(key: str, data: bytes, expected: str | None) -> None:
        barrier.wait()
        real(key, data, expected)

    return write_if


def test_concurrent_publishers_cannot_both_win(store: ObjectStore) -> None:
    n = 4
    store.write_if = racing(store, n)  # type: ignore[method-assign]
    outcomes: dict[str, str] = {}

    def one(tag: str) -> None:
        try:
            outcomes[tag] = publish(store, KEY, files(tag), META, f"run-{tag}").state
        except PublishConflict:
            outcomes[tag] = "conflict"

    threads = [threading.Thread(target=one, args=(f"p{i}",)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [tag for tag, state in outcomes.items() if state == "published"]
    assert len(winners) == 1 and sorted(outcomes.values()).count("conflict") == n - 1, outcomes
    manifest, got = published(store, KEY)  # type: ignore[misc]
    assert got == files(winners[0]) and manifest["run_id"] == f"run-{winners[0]}"
    folders = {k.split("/")[4] for k in store.list_keys(f"{KEY}/files")}
    assert folders == {content_digest(files(winners[0]))[:16]}  # the losers cleaned up after themselves


def test_twin_publishers_of_the_same_content_both_succeed(store: ObjectStore) -> None:
    store.write_if = racing(store, 2)  # type: ignore[method-assign]
    states: list[str] = []
    threads = [
        threading.Thread(target=lambda: states.append(publish(store, KEY, files("same"), META, "r").state))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert (
        states.count("published") == 1
        and len(states) == 2
        and set(states) - {"published"} <= {"unchanged", "completed"}
        and published(store, KEY)[1] == files("same")
    )  # type: ignore[index]


def test_every_put_asks_for_server_side_encryption(s3_endpoint: str, s3_bucket: str) -> None:
    store = S3Store(f"s3://{s3_bucket}/exports", endpoint_url=s3_endpoint)
    seen: list[dict[str, Any]] = []
    store.client.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: seen.append(params))
    publish(store, KEY, files("a"), META, "run-1")
    publish(store, KEY, files("b"), META, "run-2")
    assert len(seen) >= 8 and all(p.get("ServerSideEncryption") == "AES256" for p in seen)
    plain = S3Store(f"s3://{s3_bucket}/plain", endpoint_url=s3_endpoint, encryption=None)
    unencrypted: list[dict[str, Any]] = []
    plain.client.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: unencrypted.append(params)
    )
    plain.write_bytes("x", b"1")
    assert "ServerSideEncryption" not in unencrypted[0]


def test_unreachable_store_fails_clearly_and_publishes_nothing() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here
    store = S3Store("s3://nowhere/exports", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StorageUnavailable, match=f"object store http://127.0.0.1:{port} unreachable"):
        publish(store, KEY, files("a"), META, "run-1")
