"""``ivr model fetch``: download from a local HTTP server, check SHA-256, unpack safely.

No test touches the internet: every download comes from a ``http.server`` on 127.0.0.1 serving
zip archives built here, and ``--url`` points the command at it.
"""

from __future__ import annotations

import hashlib
import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli import main
from ivr.speech.model_fetch import (
    CATALOGUE,
    ChecksumMismatch,
    UnsafeArchive,
    fetch_model,
    normalise_sha256,
    safe_unpack,
)
from ivr.speech.recognizer import SpeechModel, load_model_from_env

NAME = "vosk-model-small-ru-0.22"

MODEL_FILES = {
    "am/final.mdl": b"acoustic model bytes",
    "conf/mfcc.conf": b"--sample-frequency=16000\n",
    "conf/model.conf": b"--min-active=200\n",
    "graph/Gr.fst": b"not really an fst",
    "README": b"a test model\n",
}


def make_zip(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    """A zip holding ``members`` (name → bytes) and optional symbolic links (name → target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def model_zip(top: str = NAME, extra: dict[str, bytes] | None = None) -> bytes:
    """A Vosk-model-shaped archive with everything under ``top/``, as the project ships them."""
    prefix = f"{top}/" if top else ""
    return make_zip(
        {prefix + name: data for name, data in {**MODEL_FILES, **(extra or {})}.items()}
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ArchiveServer:
    """Serves ``files`` (path → bytes) over HTTP on 127.0.0.1 and counts the requests."""

    files: dict[str, bytes] = field(default_factory=dict)
    # Paths whose answer announces the whole length but stops half way.
    cut_short: set[str] = field(default_factory=set)
    hits: list[str] = field(default_factory=list)
    base_url: str = ""

    def url(self, path: str = "/model.zip") -> str:
        return self.base_url + path


@pytest.fixture
def server() -> Iterator[ArchiveServer]:
    state = ArchiveServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.hits.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            sent = len(body) // 2 if self.path in state.cut_short else len(body)
            # In pieces, so the progress bar has something to count.
            for start in range(0, sent, 4096):
                self.wfile.write(body[start : min(start + 4096, sent)])

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory (no .env) and no checksum or var dir in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IVR_VOSK_MODEL_SHA256", raising=False)
    monkeypatch.delenv("IVR_VAR_DIR", raising=False)
    return tmp_path


def fetch(*args: str) -> Result:
    return CliRunner().invoke(main, ["model", "fetch", "ru-small", *args])


def leftovers(directory: Path) -> list[str]:
    """Everything in ``directory`` (temporary directories and partial downloads included)."""
    if not directory.exists():
        return []
    return sorted(path.name for path in directory.iterdir())


def test_right_checksum_unpacks_a_usable_model_and_prints_its_path(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    dest = workdir / "models"

    result = fetch("--url", server.url(), "--dest", str(dest), "--sha256", sha256(data).upper())

    assert result.exit_code == 0, result.output
    model_dir = dest / NAME
    assert f"IVR_VOSK_MODEL={model_dir.resolve()}" in result.stdout.splitlines()
    model = load_model_from_env(str(model_dir))
    assert isinstance(model, SpeechModel)
    assert model.sample_rate == 16000
    for name, content in MODEL_FILES.items():
        assert (model_dir / name).read_bytes() == content
    # The archive and the temporary directory are gone: only the model is left.
    assert leftovers(dest) == [NAME]


def test_a_model_already_in_place_is_not_downloaded_again(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    dest = workdir / "models"
    args = ("--url", server.url(), "--dest", str(dest), "--sha256", sha256(data))
    assert fetch(*args).exit_code == 0
    assert len(server.hits) == 1

    again = fetch(*args)

    assert again.exit_code == 0, again.output
    assert "already in place" in again.stdout
    assert "Downloading" not in again.stderr
    assert f"IVR_VOSK_MODEL={(dest / NAME).resolve()}" in again.stdout
    assert len(server.hits) == 1


def test_wrong_checksum_is_refused_and_nothing_is_unpacked(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    dest = workdir / "models"
    wrong = sha256(b"something else")

    result = fetch("--url", server.url(), "--dest", str(dest), "--sha256", wrong)

    assert result.exit_code == 1
    assert "Refused" in result.stderr
    assert wrong in result.stderr and sha256(data) in result.stderr
    # No model, no half-unpacked directory, no kept archive (the next run downloads afresh).
    assert leftovers(dest) == []


def test_without_a_checksum_it_downloads_prints_the_sha256_and_refuses_to_unpack(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    dest = workdir / "models"

    result = fetch("--url", server.url(), "--dest", str(dest))

    assert result.exit_code == 1
    assert sha256(data) in result.stdout
    assert "Not unpacked" in result.stderr
    assert "--sha256" in result.stderr and "IVR_VOSK_MODEL_SHA256" in result.stderr
    assert not (dest / NAME).exists()
    assert leftovers(dest) == [f"{NAME}.zip"]  # kept for the run with the checksum

    # The checksum given afterwards (here through the environment) unpacks the kept archive.
    runner = CliRunner(env={"IVR_VOSK_MODEL_SHA256": sha256(data)})
    args = ["model", "fetch", "ru-small", "--url", server.url(), "--dest", str(dest)]
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    assert is_model(dest / NAME)
    assert len(server.hits) == 1
    assert leftovers(dest) == [NAME]


def is_model(path: Path) -> bool:
    return load_model_from_env(str(path)) is not None


def test_an_archive_with_a_parent_directory_member_is_refused(
    server: ArchiveServer, workdir: Path
) -> None:
    data = make_zip(
        {**{f"{NAME}/{name}": content for name, content in MODEL_FILES.items()}, "../evil": b"x"}
    )
    server.files["/model.zip"] = data
    dest = workdir / "models"

    result = fetch("--url", server.url(), "--dest", str(dest), "--sha256", sha256(data))

    assert result.exit_code == 1
    assert "'../evil'" in result.stderr and "outside" in result.stderr
    assert not (workdir / "evil").exists()
    assert leftovers(dest) == []
    assert not (dest / NAME).exists()
    assert not any(path.name == "final.mdl" for path in workdir.rglob("*"))


@pytest.mark.parametrize(
    ("members", "symlinks", "why"),
    [
        ({"../evil": b"x"}, None, "outside"),
        ({"model/../../evil": b"x"}, None, "outside"),
        ({"/etc/evil": b"x"}, None, "absolute"),
        ({"C:/evil": b"x"}, None, "absolute"),
        ({"model\\..\\..\\evil": b"x"}, None, "backslash"),
        ({"model/./x": b"x"}, None, "outside"),
        ({}, {"model/link": "/etc/passwd"}, "symbolic link"),
    ],
)
def test_unsafe_members_are_refused_before_anything_is_written(
    tmp_path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None, why: str
) -> None:
    archive = tmp_path / "bad.zip"
    # A good member first: it must not be written either.
    archive.write_bytes(make_zip({"model/am/final.mdl": b"m", **members}, symlinks=symlinks))
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(UnsafeArchive, match=why):
        safe_unpack(archive, dest)

    assert leftovers(dest) == []
    assert not (tmp_path / "evil").exists()


def test_a_symlink_planted_in_the_destination_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "model").symlink_to(outside, target_is_directory=True)
    archive = tmp_path / "a.zip"
    archive.write_bytes(make_zip({"model/x": b"x"}))

    with pytest.raises(UnsafeArchive):
        safe_unpack(archive, dest)

    assert leftovers(outside) == []


def test_an_archive_unpacking_to_too_much_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "big.zip"
    archive.write_bytes(make_zip({"model/a": b"\0" * 5000, "model/b": b"\0" * 5000}))
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(UnsafeArchive, match="more than 8000 bytes"):
        safe_unpack(archive, dest, max_unpacked=8000)

    assert leftovers(dest) == []


def test_an_archive_without_a_model_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    data = make_zip({"something/else.txt": b"hello"})
    archive = tmp_path / "served.zip"
    archive.write_bytes(data)
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / f"{NAME}.zip").write_bytes(data)  # as if downloaded by an earlier run

    with pytest.raises(UnsafeArchive, match="holds no Vosk model"):
        fetch_model(CATALOGUE["ru-small"], dest, sha256=sha256(data), url="http://unused")

    assert leftovers(dest) == []  # no model, no temporary directory, no archive


def test_a_model_at_the_top_of_the_archive_is_accepted(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip(top="")
    server.files["/model.zip"] = data

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 0, result.output
    assert is_model(workdir / "models" / NAME)


def test_not_a_zip_is_refused(server: ArchiveServer, workdir: Path) -> None:
    data = b"<html>not found, but with status 200</html>"
    server.files["/model.zip"] = data

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 1
    assert "not a valid zip" in result.stderr
    assert not (workdir / "models" / NAME).exists()


def test_a_failed_download_says_why_and_leaves_no_partial_file(
    server: ArchiveServer, workdir: Path
) -> None:
    result = fetch("--url", server.url("/missing.zip"), "--dest", "models")

    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr
    assert leftovers(workdir / "models") == []


def test_a_download_cut_short_is_refused_and_leaves_no_partial_file(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip(extra={"graph/big": bytes(range(256)) * 200})
    server.files["/model.zip"] = data
    server.cut_short.add("/model.zip")

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 1
    assert "Refused:" in result.stderr
    assert leftovers(workdir / "models") == []


def test_a_local_server_is_reached_directly_even_with_a_proxy_configured(
    server: ArchiveServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 0, result.output
    assert server.hits == ["/model.zip"]


def test_unreachable_server_is_a_clear_error(workdir: Path) -> None:
    # A port nobody listens on: bind one, then close it.
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]
    result = fetch("--url", f"http://127.0.0.1:{port}/m.zip", "--dest", "models")

    assert result.exit_code == 1
    assert "cannot download" in result.stderr
    assert leftovers(workdir / "models") == []


def test_download_shows_a_progress_bar_under_the_cli_runner(
    server: ArchiveServer, workdir: Path
) -> None:
    data = model_zip(extra={"graph/big": bytes(range(256)) * 2000})  # ~0.5 MB, barely compressed
    server.files["/model.zip"] = data

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 0, result.output
    assert f"Downloading {NAME} from {server.url()} (instead of https://" in result.stderr
    assert NAME in result.stderr and "100%" in result.stderr


def test_no_progress_option_keeps_stderr_to_messages(server: ArchiveServer, workdir: Path) -> None:
    data = model_zip()
    server.files["/model.zip"] = data

    result = fetch(
        "--url", server.url(), "--dest", "models", "--sha256", sha256(data), "--no-progress"
    )

    assert result.exit_code == 0, result.output
    assert "%" not in result.stderr


def test_default_destination_is_var_models(server: ArchiveServer, workdir: Path) -> None:
    data = model_zip()
    server.files["/model.zip"] = data

    result = fetch("--url", server.url(), "--sha256", sha256(data))

    assert result.exit_code == 0, result.output
    assert is_model(workdir / "var" / "models" / NAME)


def test_a_malformed_checksum_is_a_usage_error(workdir: Path) -> None:
    result = fetch("--sha256", "abc123", "--dest", "models")

    assert result.exit_code == 2
    assert "64 hex digits" in result.output
    assert not (workdir / "models").exists()


def test_something_else_in_the_way_is_not_overwritten(server: ArchiveServer, workdir: Path) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    (workdir / "models" / NAME).mkdir(parents=True)
    (workdir / "models" / NAME / "notes.txt").write_text("mine")

    result = fetch("--url", server.url(), "--dest", "models", "--sha256", sha256(data))

    assert result.exit_code == 1
    assert "not a Vosk model" in result.stderr
    assert (workdir / "models" / NAME / "notes.txt").read_text() == "mine"
    assert server.hits == []


def test_a_mismatch_raises_with_both_checksums(server: ArchiveServer, tmp_path: Path) -> None:
    data = model_zip()
    server.files["/model.zip"] = data
    wrong = "0" * 64

    with pytest.raises(ChecksumMismatch) as caught:
        fetch_model(CATALOGUE["ru-small"], tmp_path, sha256=wrong, url=server.url(), progress=False)

    assert (caught.value.expected, caught.value.actual) == (wrong, sha256(data))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("AB" * 32, "ab" * 32),
        (f"  {'ab' * 32}  vosk-model-small-ru-0.22.zip\n", "ab" * 32),
        (f"sha256:{'ab' * 32}", "ab" * 32),
    ],
)
def test_checksums_are_accepted_as_usually_copied(given: str, expected: str) -> None:
    assert normalise_sha256(given) == expected


def test_the_catalogue_names_the_official_address() -> None:
    entry = CATALOGUE["ru-small"]
    assert entry.name == NAME
    assert entry.url == "https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip"
