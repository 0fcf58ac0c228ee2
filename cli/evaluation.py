"""Judgment measured on labelled histories: the frozen tune/holdout split, and (later) the evaluation itself.

The split is a pure function of the account id, frozen before any tuning, so anyone can reproduce which
customers were looked at while the rules were tuned (`tune`, two thirds) and which were not (`holdout`).
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["tune", "holdout"]


def split_of(account_id: str) -> Split:
    """`holdout` when sha256(account_id) mod 3 == 0, else `tune`. Never change it: figures depend on it."""
    digest = int.from_bytes(hashlib.sha256(account_id.encode("utf-8")).digest(), "big")
    return "holdout" if digest % 3 == 0 else "tune"
