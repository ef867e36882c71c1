"""Google Ads Customer Match: SHA-256 of normalised emails and E.164 phones, ``Email``/``Phone`` columns.

Google's normalisation (Google Ads API, "normalize and hash user-provided data"): trim, lower-case;
for ``gmail.com`` and ``googlemail.com`` addresses remove every ``.`` before the ``@``; phones in
E.164 *with* the leading ``+``. Files are cut at 100,000 rows, the identifiers Google accepts per
upload request (``AddOfflineUserDataJobOperations``). The list mirrors the audience, so each
publication also carries the adds and removes.
"""

from __future__ import annotations

from campaignflow.campaigns.destinations.base import Platform
from campaignflow.campaigns.identifiers import canonical_email, normalise_phone

MAX_ROWS = 100_000


PLATFORM = Platform(
    type="google_customer_match",
    headers={"email_sha256": "Email", "phone_sha256": "Phone"},
    max_rows=MAX_ROWS,
    mirror=True,
    email=canonical_email,  # Google's form is the canonical one
    phone=normalise_phone,
)
