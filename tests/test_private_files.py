"""Whatever the umask, the data folder and everything Spendtray writes in it are private
(folders 0700, files 0600), and a token file another user could have planted is refused —
against a real `spendtray serve` process and the real client."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sharedkit import spawn_spendtray, wait_healthy
from spendtray.config import ConfigError, load_settings
from spendtray.core import Core
from spendtray.datadir import read_token

APP = Path(__file__).resolve().parents[1] / "app"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _umask_022() -> None:
    os.umask(0o022)


def test_everything_written_is_private_under_umask_022(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = _free_port()
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "SPENDTRAY_PORT": str(port),
           "PYTHONPATH": str(APP)}  # fmt: skip
    # The client first, with the app down: its spool.
    client = (
        "import spendtray.client as st; "
        "st.record(model='gpt-4o', input_tokens=1, output_tokens=1); print(st.flush(2))"
    )
    done = subprocess.run(
        [sys.executable, "-c", client], env=env, preexec_fn=_umask_022, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "False", done.stderr
    spool = home / "spool"
    assert _mode(home) == 0o700 and _mode(spool) == 0o700
    assert [_mode(p) for p in spool.iterdir()] == [0o600]
    child = spawn_spendtray("serve", env=env, preexec_fn=_umask_022)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        token = (home / "token").read_text().strip()
        r = httpx.post(f"{url}/v1/usage", json={"model": "gpt-4o", "input_tokens": 5},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 202
        files = [p for p in home.rglob("*") if p.is_file()]
        names = {p.name for p in files}
        assert {"spendtray.db", "spendtray.db-wal", "token", "spendtray.log"} <= names, names
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        folders = [home, *(p for p in home.rglob("*") if p.is_dir())]
        assert {str(p): _mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    finally:
        child.terminate()
        child.wait(20)


def test_a_planted_token_file_is_refused(home: Path) -> None:
    home.mkdir(parents=True)
    token = home / "token"
    token.write_text("planted-token\n")
    os.chmod(token, 0o666)
    with pytest.raises(ConfigError, match="can be changed by other users"):
        Core(load_settings(home=home, port=0))
    assert read_token(home) is None  # the client does not send events proven by it either
    if os.getuid() == 0:
        os.chmod(token, 0o600)
        os.chown(token, 12345, -1)
        with pytest.raises(ConfigError, match="belongs to another user"):
            Core(load_settings(home=home, port=0))
        assert read_token(home) is None


def test_the_cli_says_so_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "token").write_text("planted\n")
    os.chmod(home / "token", 0o646)
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "SPENDTRAY_PORT": str(_free_port()),
           "PYTHONPATH": str(APP)}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "spendtray", "serve"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "token file" in done.stderr and "planted" in done.stderr
