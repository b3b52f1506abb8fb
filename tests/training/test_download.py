"""Download code against a real HTTP server on 127.0.0.1."""

import hashlib
import http.server
import threading

import pytest

from training.download import DownloadError, download_file

PAYLOAD = bytes(range(256)) * 400
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/cut.gz"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)  # the transfer stops halfway
            return
        if self.path.endswith("/good.gz") or self.path.endswith("/wrong.gz"):
            body = PAYLOAD if self.path.endswith("/good.gz") else PAYLOAD[::-1]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/files/"
    httpd.shutdown()
    httpd.server_close()


def test_download_success(server, tmp_path):
    path = download_file("good.gz", MD5, [server], tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert list(tmp_path.iterdir()) == [path]


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_file("wrong.gz", MD5, [server], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_transfer_cut_halfway_leaves_no_partial_file(server, tmp_path):
    with pytest.raises(DownloadError, match="wrong.gz|cut|IncompleteRead|cut short|Connection|incomplete"):
        download_file("cut.gz", MD5, [server], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_next_mirror_is_tried_after_a_failure(server, tmp_path):
    path = download_file("good.gz", MD5, [server + "missing/", server], tmp_path)
    assert path.read_bytes() == PAYLOAD


def test_existing_intact_file_is_not_downloaded_again(tmp_path):
    (tmp_path / "good.gz").write_bytes(PAYLOAD)
    assert download_file("good.gz", MD5, ["http://127.0.0.1:9/unreachable/"], tmp_path).read_bytes() == PAYLOAD
