"""Download, check and unpack a Vosk model: what ``ivr model fetch`` does.

``IVR_VOSK_MODEL`` names an unpacked Vosk model directory. This module gets one there safely:

* **download** with a progress bar (tqdm), hashing the bytes as they arrive;
* **check** the archive's SHA-256 against the checksum the operator supplies. None is built in:
  a checksum written here without having seen the published file would only be a guess. Without
  one the archive is downloaded, its SHA-256 printed, kept for the next run, and *not* unpacked;
* **unpack** safely: every member is checked before anything is written (no absolute paths, no
  ``..``, no links, nothing outside the destination, a cap on the unpacked size), the archive is
  unpacked into a temporary directory next to the destination and renamed into place only when
  it holds a Vosk model, so a failed or interrupted run never leaves a half model behind;
* **idempotently**: a model already in place is left alone and reported as such.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, TextIO
from urllib.parse import urlsplit

import requests
from tqdm import tqdm

from ivr.errors import IvrError

__all__ = [
    "CATALOGUE",
    "CatalogueEntry",
    "ChecksumMismatch",
    "ChecksumRequired",
    "DownloadError",
    "FetchResult",
    "ModelFetchError",
    "UnsafeArchive",
    "download",
    "fetch_model",
    "install_model",
    "is_model_dir",
    "normalise_sha256",
    "sha256_of",
]

# The models ``ivr model fetch`` knows by a short name. The URLs are the addresses the Vosk
# project publishes its models under (https://alphacephei.com/vosk/models/<name>.zip, as listed
# on its models page https://alphacephei.com/vosk/models). The project's SHA-256 of each archive
# is NOT recorded here: the operator supplies it (--sha256 or IVR_VOSK_MODEL_SHA256), taken from
# a source they trust, and nothing is unpacked without it.
_VOSK_MODELS = "https://alphacephei.com/vosk/models"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A downloadable model: its directory name (inside the archive and on disk) and URL."""

    name: str
    url: str
    description: str


CATALOGUE: dict[str, CatalogueEntry] = {
    "ru-small": CatalogueEntry(
        name="vosk-model-small-ru-0.22",
        url=f"{_VOSK_MODELS}/vosk-model-small-ru-0.22.zip",
        description="Russian, small (about 45 MB, 16 kHz); accepts a runtime grammar",
    ),
}

CHECKSUM_ENV = "IVR_VOSK_MODEL_SHA256"

# Generous caps: the small models are under 100 MB unpacked, the big ones a few GB.
MAX_DOWNLOAD_BYTES = 4 * 1024**3
MAX_UNPACKED_BYTES = 8 * 1024**3
MAX_MEMBERS = 100_000
# Seconds to connect, and to wait for the next bytes (not for the whole download).
CONNECT_TIMEOUT = 30.0
READ_TIMEOUT = 60.0
_CHUNK = 1024 * 1024
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class ModelFetchError(IvrError):
    """The model could not be fetched; the message says why in plain words."""


class DownloadError(ModelFetchError):
    """The archive could not be downloaded."""


class ChecksumRequired(ModelFetchError):
    """Downloaded, but no checksum was supplied, so nothing was unpacked."""

    def __init__(self, message: str, *, actual: str, archive: Path) -> None:
        super().__init__(message)
        self.actual = actual
        self.archive = archive


class ChecksumMismatch(ModelFetchError):
    """The archive's SHA-256 is not the one supplied; nothing was unpacked."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class UnsafeArchive(ModelFetchError):
    """The archive is not a zip, or a member would land outside the destination."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Where the model is, and whether this run put it there or found it already in place."""

    path: Path
    status: Literal["installed", "present"]
    sha256: str | None = None
    downloaded: bool = False


def normalise_sha256(value: str) -> str:
    """A SHA-256 as 64 lower-case hex digits; ValueError for anything else.

    Accepts the ``sha256sum`` output line (``HEX  file``) and a ``sha256:`` prefix, since
    that is how checksums are usually copied.
    """
    text = value.strip()
    if text.lower().startswith("sha256:"):
        text = text[len("sha256:") :]
    text = text.split()[0].lower() if text.split() else ""
    if not _SHA256_HEX.match(text):
        raise ValueError(f"not a SHA-256 checksum (64 hex digits): {value.strip()[:80]!r}")
    return text


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, as lower-case hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_model_dir(path: Path) -> bool:
    """True for a directory that looks like a Vosk model (``am/final.mdl`` and ``conf/``).

    The same test ``ivr.speech.recognizer.load_model_from_env`` applies to IVR_VOSK_MODEL.
    """
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def download(
    url: str,
    target: Path,
    *,
    progress: bool = True,
    stream: TextIO | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    label: str = "",
) -> str:
    """Download ``url`` into the new file ``target``; returns the bytes' SHA-256 (hex).

    Follows redirects; honours the usual proxy variables. A progress bar goes to ``stream``
    (default: standard error) unless ``progress`` is false. On any failure ``target`` is
    removed and :class:`DownloadError` raised.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("https", "http"):
        raise DownloadError(f"only http(s) addresses can be downloaded, not {url!r}")
    digest = hashlib.sha256()
    received = 0
    session = requests.Session()
    # Proxies from the environment are honoured, except for this machine itself (a mirror or
    # a test server on 127.0.0.1 must not be sent through a proxy).
    session.trust_env = not _is_loopback(url)
    try:
        with (
            session,
            session.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(f"{url} answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            total = int(declared) if declared.isdigit() else None
            if total is not None and total > max_bytes:
                raise DownloadError(f"{url} is {total} bytes, more than the {max_bytes} allowed")
            with (
                target.open("xb") as file,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=label or target.name,
                    file=stream if stream is not None else sys.stderr,
                    disable=not progress,
                    mininterval=0.5,
                    leave=True,
                ) as bar,
            ):
                for chunk in response.iter_content(_CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise DownloadError(f"{url} sent more than the {max_bytes} bytes allowed")
                    file.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            if total is not None and received != total:
                raise DownloadError(
                    f"{url}: the download stopped after {received} of {total} bytes"
                )
    except requests.RequestException as exc:
        target.unlink(missing_ok=True)
        raise DownloadError(f"cannot download {url}: {exc}") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_members(
    archive: zipfile.ZipFile, *, max_unpacked: int, max_members: int
) -> list[zipfile.ZipInfo]:
    """Every member, after checking that none can be written outside the destination.

    Checked on the names alone, before anything is written: zip names use ``/``; a name that is
    absolute, has a drive or a backslash, a ``..`` or an empty/``.`` component that could hide
    one, or a NUL is refused, as are symbolic links and archives whose declared sizes add up
    to more than ``max_unpacked`` (zipfile never writes more than a member's declared size).
    """
    members = archive.infolist()
    if len(members) > max_members:
        raise UnsafeArchive(f"the archive has {len(members)} members, more than {max_members}")
    total = 0
    for info in members:
        name = info.filename
        shown = repr(name[:200])
        if "\\" in name or "\x00" in name:
            raise UnsafeArchive(f"refused the member {shown}: backslash or NUL in its name")
        path = PurePosixPath(name)
        if path.is_absolute() or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise UnsafeArchive(f"refused the member {shown}: an absolute path")
        parts = name.rstrip("/").split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise UnsafeArchive(f"refused the member {shown}: it points outside the model")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchive(f"refused the member {shown}: a symbolic link")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"refused the member {shown}: it is encrypted")
        total += info.file_size
        if total > max_unpacked:
            raise UnsafeArchive(f"the archive unpacks to more than {max_unpacked} bytes")
    return members


def safe_unpack(
    archive_path: Path,
    dest: Path,
    *,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Unpack the zip ``archive_path`` into the existing directory ``dest``, checked first.

    Nothing is written unless every member passes :func:`_check_members`; each path is also
    resolved and must stay inside ``dest`` (which catches a link planted in ``dest`` itself).
    """
    root = dest.resolve()
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = _check_members(archive, max_unpacked=max_unpacked, max_members=max_members)
            targets: list[tuple[zipfile.ZipInfo, Path]] = []
            for info in members:
                target = (root / info.filename).resolve()
                if target != root and not target.is_relative_to(root):
                    raise UnsafeArchive(
                        f"refused the member {info.filename[:200]!r}: it points outside the model"
                    )
                targets.append((info, target))
            for info, target in targets:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("xb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"{archive_path.name} is not a valid zip archive: {exc}") from exc
    except FileExistsError as exc:
        raise UnsafeArchive(f"the archive holds {exc.filename} twice") from exc


def _model_root(unpacked: Path) -> Path | None:
    """The model directory inside what was unpacked: itself, or its only subdirectory."""
    if is_model_dir(unpacked):
        return unpacked
    entries = [entry for entry in unpacked.iterdir() if entry.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and is_model_dir(entries[0]):
        return entries[0]
    return None


def install_model(archive_path: Path, dest_dir: Path, name: str) -> FetchResult:
    """Unpack a checked archive into ``dest_dir/name``, atomically.

    The archive is unpacked into a temporary directory inside ``dest_dir`` (the same file
    system) and the model directory is renamed into place in one step; on any failure the
    temporary directory is removed and ``dest_dir/name`` does not exist.
    """
    final = dest_dir / name
    dest_dir.mkdir(parents=True, exist_ok=True)
    with _temporary_dir(dest_dir, f".{name}.unpack-") as scratch:
        safe_unpack(archive_path, scratch)
        root = _model_root(scratch)
        if root is None:
            raise UnsafeArchive(
                f"{archive_path.name} holds no Vosk model (am/final.mdl and conf/ were expected "
                "at its top or in its only directory)"
            )
        try:
            os.rename(root, final)
        except OSError as exc:
            if is_model_dir(final):
                # Another run got there first: the model is in place all the same.
                return FetchResult(final.resolve(), "present")
            raise ModelFetchError(f"cannot move the model into {final}: {exc}") from exc
    return FetchResult(final.resolve(), "installed")


@contextlib.contextmanager
def _temporary_dir(parent: Path, prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fetch_model(
    entry: CatalogueEntry,
    dest_dir: Path,
    *,
    sha256: str | None,
    url: str | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
    on_download: Callable[[str], None] | None = None,
) -> FetchResult:
    """Make sure ``dest_dir/entry.name`` holds the model; download and unpack it if not.

    ``sha256`` is the published checksum of the archive (any case, see
    :func:`normalise_sha256`). Without it the archive is downloaded to
    ``dest_dir/<name>.zip``, kept, and :class:`ChecksumRequired` raised with its SHA-256; a
    later run with the checksum checks and unpacks that file instead of downloading again.
    A mismatch raises :class:`ChecksumMismatch` and deletes the archive, so the next run
    downloads afresh; so does an archive refused by :func:`install_model`. ``url`` overrides
    the catalogue address (a mirror, or a test server). ``on_download`` is told the address
    just before a download starts (nothing is downloaded when the model or archive is there).
    """
    expected = normalise_sha256(sha256) if sha256 else None
    final = dest_dir / entry.name
    if final.exists():
        if is_model_dir(final):
            return FetchResult(final.resolve(), "present")
        raise ModelFetchError(
            f"{final} exists but is not a Vosk model (no am/final.mdl and conf/); "
            "move it away and run again"
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    kept = dest_dir / f"{entry.name}.zip"
    downloaded = False
    if kept.is_file():
        actual = sha256_of(kept)
    else:
        partial = dest_dir / f".{entry.name}.zip.{os.getpid()}.part"
        partial.unlink(missing_ok=True)
        if on_download is not None:
            on_download(url or entry.url)
        actual = download(
            url or entry.url, partial, progress=progress, stream=stream, label=entry.name
        )
        os.replace(partial, kept)
        downloaded = True
    if expected is None:
        raise ChecksumRequired(
            f"{entry.name}: no checksum was given, so the archive was not unpacked",
            actual=actual,
            archive=kept.resolve(),
        )
    if actual != expected:
        kept.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"{entry.name}: the archive's SHA-256 is {actual}, not the expected {expected}; "
            "it was deleted and nothing was unpacked",
            expected=expected,
            actual=actual,
        )
    try:
        result = install_model(kept, dest_dir, entry.name)
    finally:
        # Installed, or refused as unsafe or not a model: either way the archive is done with.
        kept.unlink(missing_ok=True)
    return FetchResult(result.path, result.status, actual, downloaded)
