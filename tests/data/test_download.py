"""Resumable, size-checked download (against a local HTTP server) and safe extraction."""

import http.server
import io
import tarfile
import threading

import pytest

from macformer.data.download import DownloadError, UnsafeArchiveError, download, safe_extract
from macformer.data.prepare import main

PAYLOAD = bytes(range(256)) * 4000  # 1,024,000 bytes


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at any path, honouring `Range: bytes=N-`."""

    def do_GET(self):
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.server.requests.append(self.headers.get("Range"))
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up early (the size-mismatch test)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def test_download_resumes_a_partial_file(server, tmp_path):
    url = f"http://127.0.0.1:{server.server_port}/lra_release.gz"
    dest = tmp_path / "lra_release.gz"
    (tmp_path / "lra_release.gz.part").write_bytes(PAYLOAD[:300_000])
    download(url, dest, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == ["bytes=300000-"]
    assert not (tmp_path / "lra_release.gz.part").exists()


def test_download_refuses_a_size_mismatch(server, tmp_path):
    url = f"http://127.0.0.1:{server.server_port}/x"
    dest = tmp_path / "x"
    (tmp_path / "x.size").write_text('{"bytes": 5}\n')
    with pytest.raises(DownloadError, match="expected 5"):
        download(url, dest, progress=False)
    assert not dest.exists()


def _tar(tmp_path, members):
    path = tmp_path / "archive.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_extract_unpacks_plain_members(tmp_path):
    archive = _tar(tmp_path, [("lra_release/listops-1000/basic_test.tsv", b"Source\tTarget\n")])
    safe_extract(archive, tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "lra_release" / "listops-1000" / "basic_test.tsv").read_bytes() == b"Source\tTarget\n"


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "lra_release/../../evil.txt"])
def test_extract_refuses_escaping_members(tmp_path, name):
    archive = _tar(tmp_path, [("lra_release/ok.txt", b"ok"), (name, b"evil")])
    with pytest.raises(UnsafeArchiveError, match="absolute path or '..'"):
        safe_extract(archive, tmp_path / "out", progress=False)
    assert not (tmp_path / "evil.txt").exists()


def test_extract_refuses_links(tmp_path):
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("lra_release/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="not a plain file"):
        safe_extract(path, tmp_path / "out", progress=False)


def _symlink_member(tar):
    info = tarfile.TarInfo("lra_release/tsv_data/link")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil.txt", "lra_release/tsv_data/link"])
def test_prepare_reports_a_refused_member_in_one_line(tmp_path, capsys, member):
    """The archive already downloaded is unpacked; a refused member ends prepare
    with one line naming the archive and the member, and exit status 1."""
    archive = tmp_path / "lra_release.gz"
    with tarfile.open(archive, "w:gz") as tar:
        ok = tarfile.TarInfo("lra_release/tsv_data/readme.txt")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        if member.endswith("link"):
            _symlink_member(tar)
        else:
            info = tarfile.TarInfo(member)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(SystemExit) as exit_:
        main(["--data-dir", str(tmp_path), "--only", "retrieval", "--no-process"])
    assert exit_.value.code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors[0].startswith(f"error: {archive}: refusing archive member {member!r}")
    assert "delete it and download it again" in errors[0]
    assert errors[1:] == ["error: not ready: retrieval (asked for with --only; the table says how to get each)"]
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "lra_release" / "lra_release" / "tsv_data" / "link").exists()


def test_prepare_reports_a_truncated_archive_in_one_line(tmp_path, capsys):
    archive = _tar(tmp_path, [("lra_release/tsv_data/readme.txt", bytes(range(256)) * 400)])
    archive = archive.rename(tmp_path / "lra_release.gz")
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(SystemExit) as exit_:
        main(["--data-dir", str(tmp_path), "--only", "retrieval", "--no-process"])
    assert exit_.value.code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors[0].startswith(f"error: {archive}: cannot be unpacked") and len(errors) == 2
