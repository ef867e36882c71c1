"""The storage handles a job needs, built once from :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from campaignflow.io.lake import Lake
from campaignflow.io.storage import ObjectStore, open_store
from campaignflow.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    lake: Lake
    landing: ObjectStore
    exports: Lake

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Runtime:
        s = settings or Settings.from_env()
        return cls(
            settings=s,
            lake=Lake.from_uri(s.lake_uri, s.s3_endpoint_url, s.s3_encryption),
            landing=open_store(s.landing_uri, s.s3_endpoint_url, s.s3_encryption),
            exports=Lake.from_uri(s.exports_uri, s.s3_endpoint_url, s.s3_encryption),
        )
