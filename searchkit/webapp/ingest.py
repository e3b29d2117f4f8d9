"""Articles over HTTP: ``PUT``/``DELETE /api/articles/<id>`` and ``POST /api/articles`` (JSON Lines).

The articles folder stays the source of truth. An accepted article is first written to
``seeds/api/<id>.jsonl`` as one JSON Lines record (temporary file, fsync, rename), the format that
keeps its text exactly as sent; then the same build as ``searchkit index`` brings the index up to
date, and only then does the request answer: 201 (new) or 200 (replaced), when the article is
searchable. One request writes at a time (a lock file beside the index serves every worker
process), so the same id sent by two clients ends as one of them, whole. When the build fails (a
full disk, the index damaged), the article's previous file is put back and the index is the one
before; the answer says why (507, 503). When a build run from the terminal holds the index for
longer than :data:`BUSY_SECONDS`, the article stays written and the answer is 202: the next build
indexes it. A server killed between the two steps finds the folder newer than its index when it
starts again and brings it up to date (:func:`catch_up`).

Writing needs ``Authorization: Bearer <key>`` with a write key (:mod:`searchkit.webapp.keys`); without
any write key the site takes no articles at all.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from werkzeug.routing import BaseConverter

from searchkit.build import index as indexing
from searchkit.corpus import freshness
from searchkit.corpus.articles import DEFAULT_MAX_BYTES, split_title
from searchkit.corpus.decoding import clean_text
from searchkit.engines.whoosh.generations import replace_file, sync_folder
from searchkit.errors import IndexBusyError, SearchkitError
from searchkit.text.dates import dateline, read_date
from searchkit.webapp import keys
from searchkit.webapp.failures import RequestError

# seeds/api/<id>.jsonl: the articles the API wrote, apart from the ones put there by hand.
FOLDER = "api"
MAX_ID_CHARS = 200
# A file name holds at most 255 bytes; "<id>.jsonl" and the temporary names around it must fit.
MAX_ID_BYTES = 200
# A batch: at most this many articles, this many bytes of JSON Lines (each record within the cap).
MAX_BATCH_ARTICLES = 1000
MAX_BATCH_BYTES = 32 * 1024 * 1024
# How long a request waits for a build another process holds before answering 202.
BUSY_SECONDS = 30.0
LOCK = "ingest.lock"
# Requests one worker process lets wait for the lock or write: the others of its eight threads stay
# free for searches. One more gets 503 and Retry-After.
WRITERS = 4
_writers = threading.BoundedSemaphore(WRITERS)
FIELDS = ("title", "text", "date", "source", "tags", "url")


class IngestError(RequestError):
    """A request to write articles that is refused (bad input, no right to write, no room); its status is
    its code's (searchkit.webapp.failures)."""

    code = "ingest"


@dataclass(frozen=True)
class Record:
    """One article as the API writes it: its id and the JSON Lines record holding it."""

    id: str
    line: bytes


def register(app: Flask, index_dir: Path, seeds_dir: Path) -> None:
    """Adds the articles API to ``app``, and brings a stale index up to date when writing is on."""
    app.extensions["searchkit.webapp.keys"] = keys.KeyRing(index_dir)
    app.url_map.converters["api_id"] = AnyId
    app.register_blueprint(api)
    if keys.writable(index_dir) and seeds_dir.is_dir() and freshness.stale(seeds_dir, index_dir):
        threading.Thread(target=catch_up, args=(seeds_dir, index_dir, app), daemon=True).start()


class AnyId(BaseConverter):
    """Whatever follows ``/api/articles/``, line breaks and slashes too, so that :func:`check_id` refuses
    a bad id with its rule rather than the router with a bare 404."""

    regex = "(?s:.+)"
    # Matched across "/", so an id holding one reaches check_id.
    part_isolating = False


api = Blueprint("articles_api", __name__)


@api.put("/api/articles/<api_id:article_id>")
def put_article(article_id: str) -> tuple[Response, int]:
    return _answer(lambda: _put(article_id))


@api.delete("/api/articles/<api_id:article_id>")
def delete_article(article_id: str) -> tuple[Response, int]:
    return _answer(lambda: _delete(article_id))


@api.post("/api/articles")
def post_articles() -> tuple[Response, int]:
    return _answer(_post)


# --- the three requests -----------------------------------------------------------------------------


def _put(article_id: str) -> tuple[dict, int]:
    _authorize()
    check_id(article_id)
    body = _body(DEFAULT_MAX_BYTES)
    kind = request.mimetype
    if kind == "application/json":
        record = record_of(article_id, _json_object(body))
    elif kind in ("text/markdown", "text/x-markdown", "text/plain"):
        record = _text_record(article_id, body, markdown=kind != "text/plain")
    else:
        raise IngestError(
            "send application/json, text/markdown or text/plain", code="media_type", media_type=kind or ""
        )
    indexed, new = _write([record], [])
    status = 202 if not indexed else 201 if new else 200
    return {"id": article_id, "article": article_key(article_id), "indexed": indexed}, status


def _delete(article_id: str) -> tuple[dict, int]:
    _authorize()
    check_id(article_id)
    if not _path(article_id).is_file():
        raise IngestError(f"no article {article_id!r} was written through the API", code="article_unknown")
    indexed, _ = _write([], [article_id])
    return {"id": article_id, "deleted": True, "indexed": indexed}, 200 if indexed else 202


def _post() -> tuple[dict, int]:
    _authorize()
    if request.mimetype not in ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain"):
        raise IngestError("send JSON Lines (application/x-ndjson)", code="media_type", media_type=request.mimetype)
    body = _body(MAX_BATCH_BYTES)
    records: dict[str, Record] = {}
    for number, line in enumerate(body.split(b"\n"), 1):
        if not line.strip():
            continue
        data = _json_object(line, where=f"line {number}: ")
        article_id = data.pop("id", None)
        if not isinstance(article_id, str):
            raise _field("id", "a string", where=f"line {number}: ")
        check_id(article_id, where=f"line {number}: ")
        if article_id in records:
            raise IngestError(f"line {number}: id {article_id!r} is given twice", code="id_duplicate", line=number)
        records[article_id] = record_of(article_id, data, where=f"line {number}: ")
        if len(records) > MAX_BATCH_ARTICLES:
            raise IngestError(f"a batch holds at most {MAX_BATCH_ARTICLES} articles", code="body_too_large")
    if not records:
        raise IngestError("the batch holds no article", code="body_empty")
    indexed, new = _write(list(records.values()), [])
    return {"ids": list(records), "created": new, "indexed": indexed}, 200 if indexed else 202


# --- checking what is sent ----------------------------------------------------------------------------


def check_id(article_id: str, *, where: str = "") -> None:
    """Refuses (400, code ``id_invalid``, the rule in the message) an id the folder could not hold as one file."""
    rule = (
        f"an id is 1 to {MAX_ID_CHARS} characters ({MAX_ID_BYTES} bytes in UTF-8), without '/', '\\', '..', "
        "control characters (NUL, line breaks) or a leading '.'"
    )
    bad = (
        not article_id
        or len(article_id) > MAX_ID_CHARS
        or "/" in article_id
        or "\\" in article_id
        or ".." in article_id
        or article_id.startswith(".")
        or any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in "\u2028\u2029" for char in article_id)
    )
    if not bad:
        try:
            bad = len(article_id.encode("utf-8")) > MAX_ID_BYTES
        except UnicodeEncodeError:
            bad = True
    if bad:
        raise IngestError(f"{where}bad id: {rule}", code="id_invalid", rule=rule)


def record_of(article_id: str, data: dict, *, where: str = "") -> Record:
    """The JSON Lines record for an article sent as JSON; 400 naming the field that is wrong."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise IngestError(f"{where}unknown field {unknown[0]!r}: the fields are {', '.join(FIELDS)}", code="field")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _field("text", "a string that is not empty", where)
    record: dict[str, object] = {"id": article_id}
    for name in ("title", "text", "source", "url"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise _field(name, "a string", where)
        if value is not None and value.strip():
            record[name] = value
    written = data.get("date")
    if written is not None:
        day = read_date(written) if isinstance(written, str) else None
        if day is None:
            raise _field("date", "a date (2024-05-22 or 22/05/2024)", where)
        record["date"] = day.isoformat()
    tags = data.get("tags")
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise _field("tags", "a list of strings", where)
        record["tags"] = tags
    try:
        line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # "\ud800" in the JSON sent: no file, page or index term can hold it
        raise IngestError(f"{where}the article holds a lone surrogate (\\ud800…)", code="field") from None
    if len(line) > DEFAULT_MAX_BYTES:
        raise IngestError(
            f"{where}the article is larger than {DEFAULT_MAX_BYTES // (1024 * 1024)} MiB", code="body_too_large"
        )
    return Record(article_id, line)


def article_key(article_id: str) -> str:
    """The id the index and the page know the article by (``/articles/<key>``)."""
    return f"{FOLDER}/{article_id}.jsonl#{article_id}"


def _text_record(article_id: str, body: bytes, *, markdown: bool) -> Record:
    try:
        text = clean_text(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise IngestError("the body is not UTF-8", code="body_invalid") from None
    if not markdown:
        found = dateline(text)
        title, rest = split_title(text)
        return record_of(article_id, {"title": title, "text": rest or title, "date": found and found.isoformat()})
    from searchkit.corpus.markdown import read_markdown

    try:
        article = read_markdown(text)
    except ValueError as exc:
        raise IngestError(f"the Markdown cannot be read: {exc}", code="body_invalid") from None
    title, rest = (article.title, article.text) if article.title else split_title(article.text)
    data = {"title": title, "text": rest or title, "tags": list(article.tags) or None}
    data.update({name: article.meta.get(name) for name in ("source", "url")})
    written = article.meta.get("date")
    if written and read_date(written) is None:
        raise _field("date", "a date (2024-05-22 or 22/05/2024)", "front matter: ")
    data["date"] = written
    return record_of(article_id, data)


def _field(name: str, wanted: str, where: str = "") -> IngestError:
    return IngestError(f"{where}field {name!r} must be {wanted}", code=f"field_{name}", field=name)


def _json_object(body: bytes, *, where: str = "") -> dict:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not JSON"
        raise IngestError(f"{where}invalid JSON: {reason}", code="json_invalid") from None
    if not isinstance(data, dict):
        raise IngestError(f"{where}invalid JSON: an article is a JSON object", code="json_invalid")
    return data


def _body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _too_large(limit: int) -> IngestError:
    return IngestError(f"the body is larger than {limit // (1024 * 1024)} MiB", code="body_too_large", limit=limit)


def _authorize() -> None:
    """Lets a request with a write key through; 401 or 403 otherwise. The key is never repeated or logged."""
    index_dir = Path(current_app.config["INDEX_DIR"])
    if not keys.writable(index_dir):
        raise IngestError(
            "this server takes no articles: no write key is configured ('searchkit keys create')",
            code="writing_disabled",
        )
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise IngestError("writing needs 'Authorization: Bearer <key>'", code="key_missing")
    key = current_app.extensions["searchkit.webapp.keys"].check(presented.strip())
    if key is None:
        raise IngestError("the key is not valid", code="key_wrong")
    if key.revoked:
        raise IngestError("the key was revoked", code="key_revoked")
    if key.scope != "write":
        raise IngestError(f"the key {key.name!r} may only search", code="key_scope")


# --- writing and indexing -------------------------------------------------------------------------------


def _path(article_id: str) -> Path:
    return Path(current_app.config["SEEDS_DIR"]) / FOLDER / f"{article_id}.jsonl"


def _write(records: list[Record], removed: list[str]) -> tuple[bool, list[str]]:
    """Writes ``records`` and removes ``removed``, then indexes. Returns whether they are searchable
    (not when a build from elsewhere held the index too long: the files stay, the next build indexes
    them), and the ids of the records that are new."""
    seeds_dir = Path(current_app.config["SEEDS_DIR"])
    index_dir = Path(current_app.config["INDEX_DIR"])
    if not seeds_dir.is_dir():
        raise IngestError("the articles folder is not a folder on this server", code="corpus")
    folder = seeds_dir / FOLDER
    if not _writers.acquire(blocking=False):
        raise IngestError("too many articles are being written at once: try again in a second", code="writers_busy")
    try:
        return _write_alone(records, removed, seeds_dir, index_dir, folder)
    finally:
        _writers.release()


def _write_alone(
    records: list[Record], removed: list[str], seeds_dir: Path, index_dir: Path, folder: Path
) -> tuple[bool, list[str]]:
    with _one_writer(index_dir):
        backups: dict[Path, Path | None] = {}
        try:
            folder.mkdir(exist_ok=True)
            for article_id in [r.id for r in records] + removed:
                backups[_path(article_id)] = _keep(_path(article_id))
            new = [record.id for record in records if backups[_path(record.id)] is None]
            for record in records:
                _replace(_path(record.id), record.line)
            for article_id in removed:
                _path(article_id).unlink()
            sync_folder(folder)
        except OSError as exc:
            _restore(backups, folder)
            raise _unwritable(exc) from exc
        try:
            indexed = _build(seeds_dir, index_dir)
        except BaseException as exc:
            _restore(backups, folder)
            if isinstance(exc, SearchkitError) and exc.code == "index_unwritable":
                cause = exc.__cause__
                raise _unwritable(cause if isinstance(cause, OSError) else OSError(str(exc))) from exc
            raise
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)
        return indexed, new


def _build(seeds_dir: Path, index_dir: Path) -> bool:
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            # One process: a server forks no workers from its request threads.
            indexing.build(seeds_dir, index_dir, procs=1)
            return True
        except IndexBusyError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def catch_up(seeds_dir: Path, index_dir: Path, app: Flask) -> None:
    """Indexes what the folder gained while no server was running (one killed before its build)."""
    try:
        with _one_writer(index_dir):
            if freshness.stale(seeds_dir, index_dir):
                _build(seeds_dir, index_dir)
    except (SearchkitError, OSError) as exc:
        app.logger.warning("could not bring the index up to date with %s: %s", seeds_dir, exc)


@contextmanager
def _one_writer(index_dir: Path) -> Iterator[None]:
    """One writing request at a time, across threads and worker processes (an OS lock: a killed
    server leaves none behind)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _keep(path: Path) -> Path | None:
    """A hard link to ``path``'s current file (no room taken), to put back if the build fails."""
    backup = path.with_name(f".{path.name}.old")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except FileNotFoundError:
        return None
    return backup


def _replace(path: Path, data: bytes) -> None:
    # A name of its own for each writer: two clients writing one id never share a temporary file.
    replace_file(path, data, path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp"), exclusive=True)


def _restore(backups: dict[Path, Path | None], folder: Path) -> None:
    for path, backup in backups.items():
        try:
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
                # rename() leaves both names when they are one file already (the write never happened).
                backup.unlink(missing_ok=True)
        except OSError:
            pass
    sync_folder(folder)


def _unwritable(exc: OSError) -> IngestError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return IngestError("the server's disk is full: nothing was changed", code="disk_full")
    return IngestError(
        f"the server cannot write the article ({exc.strerror or exc}): nothing was changed", code="index_unwritable"
    )


def _answer(handle: Callable[[], tuple[dict, int]]) -> tuple[Response, int]:
    """The answer of a request that was done; one that failed is answered by the site's error handler."""
    data, status = handle()
    response = jsonify(data)
    if status in (201, 200) and "article" in data:
        response.headers["Location"] = url_for("article", doc_id=data["article"])
    return response, status
