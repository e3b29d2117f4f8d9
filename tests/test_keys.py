"""API keys: printed once, kept as scrypt hashes only, listed without their secret, revoked by name."""

from __future__ import annotations

import json
import sqlite3
import stat

from click.testing import CliRunner

from searchkit.cli import main
from searchkit.webapp import keys


def test_created_key_is_kept_only_as_a_salted_hash(tmp_path):
    key, text = keys.create(tmp_path, "cms")
    assert text.startswith(f"sk_{key.id}_") and len(text) > 40
    raw = (tmp_path / keys.FILE).read_bytes()
    secret = text[len(f"sk_{key.id}_") :]
    assert secret.encode() not in raw and text.encode() not in raw
    assert stat.S_IMODE((tmp_path / keys.FILE).stat().st_mode) == 0o600
    other, _ = keys.create(tmp_path, "reader", "search")
    with sqlite3.connect(tmp_path / keys.FILE) as db:
        salts = [row[0] for row in db.execute("SELECT salt FROM keys")]
    assert len(set(salts)) == 2


def test_key_is_checked_and_a_wrong_or_revoked_one_is_not(tmp_path):
    key, text = keys.create(tmp_path, "cms")
    ring = keys.KeyRing(tmp_path)
    assert ring.check(text) == key
    assert ring.check(text) == key  # the second time from what the ring remembers
    wrong = text[:-1] + ("A" if text[-1] != "A" else "B")
    assert ring.check(wrong) is None
    assert ring.check("sk_00000000_" + text[-43:]) is None
    assert ring.check("not a key") is None
    keys.revoke(tmp_path, "cms")
    # The ring remembers the key but reads its row again: revoked from the next request on.
    assert ring.check(text).revoked is not None
    assert not keys.writable(tmp_path)


def test_search_key_does_not_make_the_site_writable(tmp_path):
    assert not keys.writable(tmp_path)
    keys.create(tmp_path, "reader", "search")
    assert not keys.writable(tmp_path)
    keys.create(tmp_path, "cms", "write")
    assert keys.writable(tmp_path)


def test_cli_create_prints_the_key_once_and_list_never_shows_it(tmp_path):
    runner = CliRunner()
    created = runner.invoke(main, ["keys", "create", "--name", "cms", "--index", str(tmp_path)])
    assert created.exit_code == 0, created.output
    text = created.stdout.strip()
    assert text.startswith("sk_")
    listed = runner.invoke(main, ["keys", "list", "--index", str(tmp_path), "--json"])
    assert listed.exit_code == 0
    (entry,) = json.loads(listed.stdout)["keys"]
    assert entry["name"] == "cms" and entry["scope"] == "write" and entry["revoked"] is None
    assert text.split("_")[1] == entry["id"]
    plain = runner.invoke(main, ["keys", "list", "--index", str(tmp_path)])
    assert "cms" in plain.stdout and text not in plain.stdout and text[-43:] not in listed.stdout
    assert runner.invoke(main, ["keys", "revoke", "cms", "--index", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["keys", "revoke", "cms", "--index", str(tmp_path)])
    assert again.exit_code == 1 and "no key named 'cms'" in again.stderr
    assert json.loads(runner.invoke(main, ["keys", "list", "--index", str(tmp_path), "--json"]).stdout)["keys"][0][
        "revoked"
    ]


def test_cli_refuses_a_second_key_of_the_same_name_and_an_unknown_scope(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["keys", "create", "--name", "cms", "--index", str(tmp_path)]).exit_code == 0
    twice = runner.invoke(main, ["keys", "create", "--name", "cms", "--index", str(tmp_path)])
    assert twice.exit_code == 1 and "exists" in twice.stderr and "sk_" not in twice.output
    scope = runner.invoke(main, ["keys", "create", "--name", "x", "--scope", "admin", "--index", str(tmp_path)])
    assert scope.exit_code == 2
