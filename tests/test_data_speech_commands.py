"""`kws data speech-commands` end to end against a real HTTP server on 127.0.0.1.

The test builds small archives with the real Speech Commands layout, serves
them with Range support, and checks download, resume, checksum, safe
extraction, official splits, the _unknown_ sample and _silence_ clips.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data.download import download
from kws.data.extract import UnsafeArchive, safe_extract
from kws.data.manifest import read_manifest, split_for
from kws.errors import KwsError
from test_data_import import private_cache, run_kws  # noqa: F401 (fixture)

WORDS = ("yes", "no", "cat", "dog")
SPEAKERS = [f"{i:08x}" for i in range(0x1a2b3c00, 0x1a2b3c00 + 40)]


def _wav(seed: int, seconds: float = 1.0) -> bytes:
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    envelope = np.sin(np.linspace(0, np.pi, n)) ** 2
    samples = (rng.normal(0, 3000, n) * envelope).astype(np.int16)
    out = io.BytesIO()
    sf.write(out, samples, 16000, subtype="PCM_16", format="WAV")
    return out.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main_archive() -> bytes:
    members, lists = {}, {"val": [], "test": []}
    for w, word in enumerate(WORDS):
        for s, speaker in enumerate(SPEAKERS):
            name = f"{word}/{speaker}_nohash_0.wav"
            members["./" + name] = _wav(w * 100 + s)
            split = split_for(speaker)
            if split != "train":
                lists[split].append(name)
    members["./_background_noise_/white_noise.wav"] = _wav(999, seconds=10.0)
    members["./validation_list.txt"] = "\n".join(lists["val"]).encode()
    members["./testing_list.txt"] = "\n".join(lists["test"]).encode()
    members["./LICENSE"] = b"CC BY 4.0"
    return _tar(members)


def test_archive() -> bytes:
    """The canonical test set: clips of test speakers, other words under _unknown_."""
    a, b = [s for s in SPEAKERS if split_for(s) == "test"][:2]
    return _tar({f"yes/{a}_nohash_0.wav": _wav(9005), f"no/{b}_nohash_0.wav": _wav(9006),
                 f"_unknown_/cat_{a}_nohash_1.wav": _wav(9007), "_silence_/0.wav": _wav(9008)})


test_archive.__test__ = False  # a builder, not a test


class Server:
    """A loopback HTTP server with Range support that can cut responses short."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str | None]] = []
        self.cut_next: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.log.append((self.path, self.headers.get("Range")))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if server.cut_next is not None:
                    body, server.cut_next = body[:server.cut_next], None
                    self.close_connection = True
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"{self.url}/{name}"


@pytest.fixture(scope="module")
def archives() -> dict[str, bytes]:
    return {"main": main_archive(), "test": test_archive()}


@pytest.fixture()
def server():
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def write_recipe(path: Path, server: Server, archives: dict[str, bytes], served: dict[str, bytes] | None = None) -> Path:
    served = served or archives
    lines = [f"[v2]\nwords = {list(WORDS)!r}\n".replace("'", '"')]
    for key, name in (("main", "speech_commands_v0.02.tar.gz"), ("test", "speech_commands_test_set_v0.02.tar.gz")):
        url = server.add(name, served[key])
        lines.append(f'[v2.{key}]\nurl = "{url}"\nsha256 = "{hashlib.sha256(archives[key]).hexdigest()}"\n')
    path.write_text("\n".join(lines))
    return path


def test_end_to_end_download_extract_and_splits(tmp_path: Path, server: Server, archives) -> None:
    recipe = write_recipe(tmp_path / "recipe.toml", server, archives)
    done = run_kws("data", "speech-commands", "--words", "yes,no", "--recipe", str(recipe),
                   "--unknown-pct", "50", "--test-set", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    dest = tmp_path / "data" / "speech_commands"
    assert (dest / "validation_list.txt").is_file() and (dest / "LICENSE").is_file()
    assert (dest / "_background_noise_" / "white_noise.wav").is_file()
    assert len(list((dest / "yes").glob("*.wav"))) == len(SPEAKERS)
    sampled = len(list((dest / "cat").glob("*.wav"))) + len(list((dest / "dog").glob("*.wav")))
    assert 0.3 * 2 * len(SPEAKERS) < sampled < 0.7 * 2 * len(SPEAKERS)  # the _unknown_ sample

    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    main = [c for c in clips if "test_set" not in c.path and c.source == "speech_commands"]
    assert {c.label for c in main} == {"yes", "no", "_unknown_"}
    assert all(c.split == split_for(c.speaker) != "test" for c in main)  # official lists; test from test set
    test_set = [c for c in clips if "test_set" in c.path]
    assert sorted(c.label for c in test_set) == ["_silence_", "_unknown_", "no", "yes"]
    assert all(c.split == "test" for c in test_set)
    silence = [c for c in clips if c.source == "noise"]
    assert {c.split for c in silence} == {"train", "val", "test"} and {c.label for c in silence} == {"_silence_"}
    for split in ("train", "val", "test"):  # no speaker crosses splits
        others = {c.speaker for c in clips if c.split != split}
        assert not others & {c.speaker for c in clips if c.split == split}

    requests = len(server.log)
    again = run_kws("data", "speech-commands", "--words", "yes,no", "--recipe", str(recipe),
                    "--unknown-pct", "50", "--test-set", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(server.log) == requests  # extracted and cached: no download
    assert len(read_manifest(tmp_path / "data" / "manifest.csv")) == len(clips)


def test_interrupted_download_resumes_with_range(tmp_path: Path, server: Server, archives) -> None:
    data = archives["main"]
    url = server.add("a.tar.gz", data)
    digest = hashlib.sha256(data).hexdigest()
    server.cut_next = len(data) // 3
    with pytest.raises(KwsError, match="interrupted.*resume from byte"):
        download(url, tmp_path / "a.tar.gz", digest, attempts=1)
    assert (tmp_path / "a.tar.gz.part").stat().st_size == len(data) // 3
    assert download(url, tmp_path / "a.tar.gz", digest).read_bytes() == data
    assert server.log[-1] == ("/a.tar.gz", f"bytes={len(data) // 3}-")

    server.cut_next = len(data) // 2  # cut again: the retry inside one call resumes
    path = download(url, tmp_path / "b.tar.gz", digest)
    assert path.read_bytes() == data and server.log[-1][1] == f"bytes={len(data) // 2}-"
    requests = len(server.log)
    download(url, tmp_path / "b.tar.gz", digest)  # cached and verified by its sha256
    assert len(server.log) == requests


def test_corrupted_archive_is_rejected(tmp_path: Path, server: Server, archives) -> None:
    bad = bytearray(archives["main"])
    bad[len(bad) // 2] ^= 0xFF
    recipe = write_recipe(tmp_path / "recipe.toml", server, archives, {"main": bytes(bad), "test": archives["test"]})
    done = run_kws("data", "speech-commands", "--words", "yes", "--recipe", str(recipe), cwd=tmp_path)
    assert done.returncode == 1 and "checksum mismatch" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not list((tmp_path / ".cache").rglob("*.tar.gz*"))
    assert not list(tmp_path.rglob("*.wav"))


def _member(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize("evil", [
    _member("../evil.wav", tarfile.REGTYPE),
    _member("/tmp/kws-evil.wav", tarfile.REGTYPE),
    _member("yes/../../evil.wav", tarfile.REGTYPE),
    _member("yes/link.wav", tarfile.SYMTYPE, "/etc/passwd"),
    _member("yes/hard.wav", tarfile.LNKTYPE, "yes/a_nohash_0.wav"),
    _member("yes/dev", tarfile.CHRTYPE),
    _member("yes/fifo", tarfile.FIFOTYPE),
], ids=["dotdot", "absolute", "nested-dotdot", "symlink", "hardlink", "device", "fifo"])
def test_malicious_archive_is_refused(tmp_path: Path, evil: tarfile.TarInfo) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        good = tarfile.TarInfo("yes/a_nohash_0.wav")
        payload = _wav(1)
        good.size = len(payload)
        tar.addfile(good, io.BytesIO(payload))
        if evil.isreg():
            evil.size = 4
            tar.addfile(evil, io.BytesIO(b"evil"))
        else:
            tar.addfile(evil)
    dest = tmp_path / "a" / "dest"
    with pytest.raises(UnsafeArchive, match="refused"):
        safe_extract(archive, dest, lambda name: True)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [archive]


def test_malicious_archive_refused_through_the_command(tmp_path: Path, server: Server, archives) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.addfile(_member("yes/x_nohash_0.wav", tarfile.SYMTYPE, "../../../outside"))
    evil = out.getvalue()
    recipe = write_recipe(tmp_path / "recipe.toml", server, {"main": evil, "test": archives["test"]})
    done = run_kws("data", "speech-commands", "--words", "yes", "--recipe", str(recipe), cwd=tmp_path)
    assert done.returncode == 1 and "refused" in done.stderr and "is a link" in done.stderr
    assert not (tmp_path / "data" / "speech_commands" / "yes").exists()


def test_unknown_word_and_version_are_usage_errors(tmp_path: Path) -> None:
    done = run_kws("data", "speech-commands", "--words", "hey robot", cwd=tmp_path)
    assert done.returncode == 2 and "kws data synth" in done.stderr
    done = run_kws("data", "speech-commands", "--version", "3", cwd=tmp_path)
    assert done.returncode == 2 and "--version 3" in done.stderr


def test_link_inside_dest_is_not_followed(tmp_path: Path) -> None:
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(_tar({"yes/a_nohash_0.wav": _wav(1)}))
    outside, dest = tmp_path / "outside", tmp_path / "dest"
    outside.mkdir()
    dest.mkdir()
    (dest / "yes").symlink_to(outside)
    with pytest.raises(KwsError, match="leads out of"):
        safe_extract(archive, dest, lambda name: True)
    assert not list(outside.iterdir())


def test_offline_says_the_network_is_unreachable_and_points_to_import(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(f'[v2]\nwords = {list(WORDS)!r}\n'.replace("'", '"')
                      + "".join(f'[v2.{key}]\nurl = "http://speech.invalid/{key}.tar.gz"\nsha256 = "{"0" * 64}"\n'
                                for key in ("main", "test")))
    done = run_kws("data", "speech-commands", "--words", "yes", "--recipe", str(recipe), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert re.fullmatch(r"error: http://speech\.invalid/main\.tar\.gz: the network is unreachable \(.+\); connect "
                        r"and run the command again, or import a copy of Speech Commands you already have with "
                        r"`kws data import DIR`", done.stderr.strip()), done.stderr
