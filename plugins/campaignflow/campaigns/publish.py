"""Safe publishing of a destination's files for (destination, campaign, date).

Layout under the exports store, per publication ``<destination>/<campaign>/dt=D/``:

    files/<digest>/audience-00001.csv …   the data, in a folder named by the content's digest
    manifest.json                          what is published (files with SHA-256, counts, run id)
    _SUCCESS                               the manifest's content digest: the publication is
                                           visible only while it matches the manifest

Order: data files, then the manifest by a *conditional* write (only if the manifest is still the
one this publisher read, or still absent), then ``_SUCCESS``. So two publishers of the same key
cannot both win (the loser gets :class:`PublishConflict` and nothing of it is visible); a publish
killed at any point leaves no partial publication visible (readers check ``_SUCCESS`` against the
manifest); and a re-run with the same content completes or confirms the publication. A re-run with
new content replaces the publication the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaignflow.errors import PermanentError, WriteConflict
from campaignflow.io.storage import ObjectStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
SUCCESS = "_SUCCESS"


class PublishConflict(PermanentError):
    """Another publisher committed this (destination, campaign, date) while this one was writing."""


@dataclass(frozen=True)
class Published:
    """The outcome of :func:`publish`: ``state`` is published, replaced, completed or unchanged."""

    key: str
    state: str
    manifest: dict[str, Any]


def publication_key(destination: str, campaign: str, ds: str) -> str:
    """``<destination>/<campaign>/dt=D`` in the exports store."""
    from campaignflow.io import datasets

    return datasets.export(destination, campaign).at(ds).key


def content_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the files' names and SHA-256s: equal iff the publication's content is equal."""
    listing = "\n".join(f"{name} {hashlib.sha256(data).hexdigest()}" for name, data in sorted(files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


def publish(
    store: ObjectStore, key: str, files: Mapping[str, bytes], meta: Mapping[str, Any], run_id: str
) -> Published:
    """Publish ``files`` at ``key``: staged, then committed by a conditional manifest write, then ``_SUCCESS``.

    Args:
        store: the exports store.
        key: :func:`publication_key`.
        files: file name → bytes.
        meta: what the manifest says about it (campaign, date, destination, counts …).
        run_id: the run publishing (recorded, not part of the content).

    Raises:
        PublishConflict: another publisher committed different content to ``key`` meanwhile.
        StorageUnavailable: the store cannot be reached (after the client's retries).
    """
    digest = content_digest(files)
    current = store.read_versioned(f"{key}/{MANIFEST}")
    before = json.loads(current[0]) if current else None
    if before is not None and before.get("content_sha256") == digest:
        return _complete(store, key, before, "unchanged")
    folder = f"files/{digest[:16]}"
    for name, data in sorted(files.items()):
        store.write_bytes(f"{key}/{folder}/{name}", data)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        **dict(meta),
        "run_id": run_id,
        "content_sha256": digest,
        "files": [
            {"name": name, "path": f"{folder}/{name}", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
        "previous": None
        if before is None
        else {"run_id": before.get("run_id"), "content_sha256": before["content_sha256"]},
    }
    try:
        store.write_if(f"{key}/{MANIFEST}", _dumps(manifest), current[1] if current else None)
    except WriteConflict as err:
        winner = read_manifest(store, key)
        if winner is not None and winner.get("content_sha256") == digest:
            return _complete(store, key, winner, "unchanged")  # a twin publisher committed the same files
        if winner is None or folder not in _folders(winner):
            store.delete_prefix(f"{key}/{folder}")
        raise PublishConflict(
            f"{store.full_uri(key)} was published by run {winner and winner.get('run_id')!r} while run "
            f"{run_id!r} was writing; nothing of {run_id!r} is visible",
            remedy="re-run the task to publish on top of the new publication if its content should win",
        ) from err
    store.write_bytes(f"{key}/{SUCCESS}", digest.encode())
    if before is not None:
        for path in _folders(before) - {folder}:
            store.delete_prefix(f"{key}/{path}")
    state = "published" if before is None else "replaced"
    log.info("%s %s: %d file(s), run %s", state, store.full_uri(key), len(files), run_id)
    return Published(key, state, manifest)


def _complete(store: ObjectStore, key: str, manifest: dict[str, Any], state: str) -> Published:
    """Make sure ``_SUCCESS`` matches ``manifest`` (a killed run may have stopped just before it)."""
    digest = manifest["content_sha256"]
    if not is_published(store, key, manifest):
        store.write_bytes(f"{key}/{SUCCESS}", digest.encode())
        state = "completed"
    return Published(key, state, manifest)


def read_manifest(store: ObjectStore, key: str) -> dict[str, Any] | None:
    current = store.read_versioned(f"{key}/{MANIFEST}")
    return json.loads(current[0]) if current else None


def is_published(store: ObjectStore, key: str, manifest: dict[str, Any] | None = None) -> bool:
    """Whether ``key`` holds a complete, visible publication (``_SUCCESS`` matches the manifest)."""
    manifest = manifest if manifest is not None else read_manifest(store, key)
    if manifest is None or not store.exists(f"{key}/{SUCCESS}"):
        return False
    return store.read_bytes(f"{key}/{SUCCESS}").decode() == manifest["content_sha256"]


def published(store: ObjectStore, key: str) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """A visible publication's manifest and its files, each checked against its SHA-256 (None: none)."""
    manifest = read_manifest(store, key)
    if manifest is None or not is_published(store, key, manifest):
        return None
    files = {}
    for entry in manifest["files"]:
        data = store.read_bytes(f"{key}/{entry['path']}")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise PermanentError(f"{store.full_uri(key)}/{entry['path']}: content does not match its manifest")
        files[entry["name"]] = data
    return manifest, files


def previous_publication(store: ObjectStore, destination: str, campaign: str, ds: str) -> str | None:
    """The key of the newest visible publication of (destination, campaign) before ``ds`` (None: none)."""
    dates = sorted(
        (d.removeprefix("dt=") for d in store.list_dirs(f"{destination}/{campaign}") if d.startswith("dt=")),
        reverse=True,
    )
    for day in dates:
        if day < ds and is_published(store, publication_key(destination, campaign, day)):
            return publication_key(destination, campaign, day)
    return None


def _folders(manifest: Mapping[str, Any]) -> set[str]:
    return {f["path"].rsplit("/", 1)[0] for f in manifest["files"]}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode()
