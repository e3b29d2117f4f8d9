"""API keys: who may write articles over HTTP.

A key is ``sk_<id>_<secret>``: the id is public (``keys list`` shows it, a request is looked up by it),
the secret is 32 random bytes shown once by ``keys create``. Only the secret's scrypt hash is kept,
with a salt of its own, in ``keys.sqlite`` beside the index's generations (mode 0600). A presented key
is hashed and compared in constant time (:func:`hmac.compare_digest`); an unknown id costs the same
hash, so the answer's timing tells nothing about which ids exist. A key is ``write`` (add, replace and
remove articles) or ``search`` (searching only, which needs no key today); a revoked key is kept,
marked, so ``keys list`` still shows when it stopped.

scrypt costs some 50 ms: a :class:`KeyRing` remembers, in its process, the keys it has checked (as
SHA-256 of the presented key, never the key) and still reads the key's row for every request, so a
revocation holds from the next request on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from searchkit.errors import SearchkitError

FILE = "keys.sqlite"
SCOPES = ("write", "search")
# scrypt's cost: 16 MiB of memory and some 50 ms a hash (RFC 7914's interactive setting).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_KEY = re.compile(r"sk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,64}")
# Checked keys a process remembers; a few clients write to one site.
_REMEMBERED = 256
# The hash an unknown id is compared with, so that it costs what a known one does.
_NOBODY_SALT = b"\0" * 16


@dataclass(frozen=True)
class Key:
    """One key as listed: never its secret nor its hash."""

    id: str
    name: str
    scope: str
    created: str
    revoked: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class KeysError(SearchkitError):
    """A key that cannot be created or revoked as asked."""

    code = "key"


def create(index_dir: Path | str, name: str, scope: str = "write") -> tuple[Key, str]:
    """A new key named ``name`` with ``scope``, and its whole text, which is not kept anywhere."""
    if scope not in SCOPES:
        raise KeysError(f"unknown scope {scope!r}: choose {' or '.join(SCOPES)}", code="key_scope", scope=scope)
    if not _NAME.fullmatch(name) or not name.strip():
        raise KeysError("a key's name is 1 to 64 printable characters", code="key_name")
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    key = Key(id=secrets.token_hex(4), name=name, scope=scope, created=_now())
    with _database(index_dir, create=True) as db:
        if db.execute("SELECT 1 FROM keys WHERE name = ? AND revoked IS NULL", (name,)).fetchone():
            raise KeysError(f"a key named {name!r} exists: revoke it first", code="key_exists", name=name)
        db.execute(
            "INSERT INTO keys (id, name, scope, created, salt, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (key.id, key.name, key.scope, key.created, salt, _hash(secret, salt)),
        )
    return key, f"sk_{key.id}_{secret}"


def list_keys(index_dir: Path | str) -> list[Key]:
    """Every key, revoked ones too, oldest first."""
    if not (Path(index_dir) / FILE).exists():
        return []
    with _database(index_dir) as db:
        rows = db.execute("SELECT id, name, scope, created, revoked FROM keys ORDER BY created, id").fetchall()
    return [Key(*row) for row in rows]


def revoke(index_dir: Path | str, name: str) -> Key:
    """Revokes the key named ``name`` (its id works too); raises :class:`KeysError` when there is none."""
    if (Path(index_dir) / FILE).exists():
        with _database(index_dir) as db:
            row = db.execute(
                "SELECT id, name, scope, created FROM keys WHERE (name = ? OR id = ?) AND revoked IS NULL",
                (name, name),
            ).fetchone()
            if row is not None:
                revoked = _now()
                db.execute("UPDATE keys SET revoked = ? WHERE id = ?", (revoked, row[0]))
                return Key(*row, revoked=revoked)
    raise KeysError(f"no key named {name!r} to revoke", code="key_unknown", name=name)


def writable(index_dir: Path | str) -> bool:
    """Whether any write key is in force, that is whether the site takes articles at all."""
    return any(key.scope == "write" and key.revoked is None for key in list_keys(index_dir))


class KeyRing:
    """Checks the keys presented to one site (see the module's notes on what it remembers)."""

    def __init__(self, index_dir: Path | str):
        self.index_dir = Path(index_dir)
        self._checked: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def check(self, presented: str) -> Key | None:
        """The key ``presented`` is, revoked or not; None when it is none of them."""
        found = _KEY.fullmatch(presented)
        if found is None:
            return None
        key_id, secret = found.groups()
        row = self._row(key_id)
        fingerprint = hashlib.sha256(presented.encode("ascii")).digest()
        with self._lock:
            known = self._checked.get(fingerprint)
        if row is not None and known is not None and hmac.compare_digest(known, key_id):
            return Key(*row[:5])
        salt, stored = (row[5], row[6]) if row is not None else (_NOBODY_SALT, b"\0" * _SCRYPT["dklen"])
        if not hmac.compare_digest(_hash(secret, salt), stored) or row is None:
            return None
        with self._lock:
            if len(self._checked) >= _REMEMBERED:
                self._checked.clear()
            self._checked[fingerprint] = key_id
        return Key(*row[:5])

    def _row(self, key_id: str) -> tuple | None:
        if not (self.index_dir / FILE).exists():
            return None
        with _database(self.index_dir) as db:
            return db.execute(
                "SELECT id, name, scope, created, revoked, salt, hash FROM keys WHERE id = ?", (key_id,)
            ).fetchone()


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("ascii"), salt=salt, **_SCRYPT)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _database(index_dir: Path | str, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    path = Path(index_dir) / FILE
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Made readable by its owner alone before SQLite writes a byte to it; its journal
            # takes the same mode.
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(path, 0o600)
        db = sqlite3.connect(path, timeout=10)
    except (OSError, sqlite3.Error) as exc:
        raise SearchkitError(f"cannot open the keys in {path}: {exc}", code="keys_unreadable") from exc
    try:
        with db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL,"
                " created TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL, revoked TEXT)"
            )
            yield db
    except sqlite3.Error as exc:
        raise SearchkitError(f"cannot read the keys in {path}: {exc}", code="keys_unreadable") from exc
    finally:
        db.close()
