"""The five seed articles exactly as the repository holds them: the corpus the tests build on.

The working ``seeds/`` is no fixture: the README tells a user to add articles there (``searchkit add``, a
``.md`` dropped in), and a test that counts five articles in it then fails for them. So the tests take
these five files by name and check each against the SHA-256 recorded below, from the first source
that has it unchanged:

1. ``seeds/<name>`` in the working tree: the usual case, no process to start;
2. ``git show HEAD:./seeds/<name>``: the committed file, when the working one was edited, removed or
   checked out with other line endings (``core.autocrlf``);
3. ``../shared/seeds/<name>``: the copy beside the checkout on the CI machine.

The hash, not the source, is what makes a copy pristine, so a user's edit or a half-resolved merge can
never slip in; a file no source holds unchanged stops the run with one message naming it. The files are
not committed a second time under tests/: the repository's own copy, checked, is the one truth.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SEED_HASHES = {
    "000_f290433a7163aea1.txt": "6593f86665cb7ab73cd5d283fb0b069e82f7f673d91a022f716674b4024e4773",
    "001_4485d4bbea077518.txt": "2ae1c42df057d9b058926a367ab63a31572dc5746cd1ad920a36e5a8398698ac",
    "002_9dfebe253e7ee071.txt": "586c45eead405207218d15d550ebb0dd60c53a0c271a6f1e4d77227e2fce618d",
    "003_b3e0a07a9f4fc9ac.txt": "8bc27752b464028f22861b56aa1bc2bcc65958e9443777bf1b87eb2a1abc7543",
    "004_a29b889078a98f24.txt": "bd72e67deec6cab8b962dc78e562322e3207e825edaa0bf8fab41131010c56bd",
}


class MissingSeedError(RuntimeError):
    """No source holds a seed article unchanged."""


def seed_bytes(name: str, root: Path = ROOT) -> bytes:
    """The seed article ``name`` as committed, from the first source whose copy has its recorded hash."""
    expected = SEED_HASHES[name]
    for read in (_working(root, name), _committed(root, name), _shared(root, name)):
        try:
            data = read()
        except (OSError, subprocess.SubprocessError):
            continue
        if data is not None and hashlib.sha256(data).hexdigest() == expected:
            return data
    raise MissingSeedError(
        f"seed article {name} (sha256 {expected[:12]}…) is neither unchanged in seeds/, nor in git's HEAD, "
        "nor in ../shared/seeds"
    )


def write_seeds(target: Path, root: Path = ROOT) -> Path:
    """Writes the five pristine seed articles into ``target`` (made if missing) and returns it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SEED_HASHES:
        (target / name).write_bytes(seed_bytes(name, root))
    return target


@cache
def pristine_seeds() -> Path:
    """A folder of the five pristine seed articles, written once per test process and removed at its end.
    Tests read it and never write to it (the ``seeds_dir`` fixture is a copy of their own for that)."""
    folder = Path(tempfile.mkdtemp(prefix="searchkit-seeds-"))
    atexit.register(shutil.rmtree, folder, True)
    return write_seeds(folder / "seeds")


def _working(root: Path, name: str):
    return lambda: (root / "seeds" / name).read_bytes()


def _committed(root: Path, name: str):
    def read() -> bytes | None:
        if shutil.which("git") is None:
            return None
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"HEAD:./seeds/{name}"], capture_output=True, timeout=30, check=False
        )
        return done.stdout if done.returncode == 0 else None

    return read


def _shared(root: Path, name: str):
    return lambda: (root.parent / "shared" / "seeds" / name).read_bytes()
