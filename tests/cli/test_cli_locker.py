"""The evidence locker through its command line, in real subprocesses.

These exercise what only separate processes can show: re-running init,
two ingests at once, and kill -9 in the middle of an ingest.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_jpeg

SVIDOK = [sys.executable, "-c", "from svidok.cli import main; main()"]


def svidok(env, *args, check=True, timeout=300):
    result = subprocess.run([*SVIDOK, *args], env=env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"svidok {args} exited {result.returncode}:\n{result.stderr}")
    return result


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def instance(cli_env):
    """A freshly initialised instance, as env for subprocesses."""
    svidok(cli_env, "init")
    return cli_env


class TestInit:
    def test_creates_database_store_and_private_key(self, cli_env):
        out = json.loads(svidok(cli_env, "init", "--json").stdout)
        home = Path(cli_env["SVIDOK_HOME"])
        key = home / "keys" / "custody-ed25519.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert (home / "blobs" / "sha256").is_dir()
        assert out["created_key"] is True and out["key_id"].startswith("ed25519:")

    def test_running_again_changes_nothing(self, cli_env):
        first = json.loads(svidok(cli_env, "init", "--json").stdout)
        home = Path(cli_env["SVIDOK_HOME"])
        key_bytes = (home / "keys" / "custody-ed25519.pem").read_bytes()
        second = json.loads(svidok(cli_env, "init", "--json").stdout)
        assert second["key_id"] == first["key_id"] and second["created_key"] is False
        assert (home / "keys" / "custody-ed25519.pem").read_bytes() == key_bytes

    def test_home_option(self, cli_env, tmp_path):
        env = dict(cli_env)
        env.pop("SVIDOK_HOME")
        svidok(env, "--home", str(tmp_path / "elsewhere"), "init")
        assert (tmp_path / "elsewhere" / "keys" / "custody-ed25519.pem").exists()

    def test_commands_before_init_say_so(self, cli_env):
        result = svidok(cli_env, "verify", check=False)
        assert result.returncode == 2
        assert "svidok init" in result.stderr


class TestIngestCommand:
    def test_json_lines_and_summary(self, instance, evidence_folder):
        result = svidok(instance, "ingest", str(evidence_folder), "--collection", "Field",
                        "--source-url", "https://t.me/example/5", "--collected-by", "Team",
                        "--collected-at", "2024-07-08T10:45:00+03:00", "--note", "n", "--json")
        lines = json_lines(result.stdout)
        *files, last = lines
        assert len(files) == 7
        for line in files:
            assert {"path", "item", "sha256", "size", "media_type", "status"} <= line.keys()
        assert {line["status"] for line in files} == {"new", "duplicate"}
        assert last["summary"]["new"] == 6 and last["summary"]["error"] == 0

    def test_unreadable_input_exits_non_zero_after_the_rest(self, instance, tmp_path):
        good = make_jpeg(tmp_path / "good.jpg", 1)
        result = svidok(instance, "ingest", str(tmp_path / "missing.jpg"), str(good),
                        "--collection", "C", "--json", check=False)
        assert result.returncode == 1
        statuses = [line.get("status") for line in json_lines(result.stdout)[:-1]]
        assert statuses == ["error", "new"]

    def test_bad_collected_at_is_refused_clearly(self, instance, tmp_path):
        good = make_jpeg(tmp_path / "good.jpg", 1)
        result = svidok(instance, "ingest", str(good), "--collection", "C",
                        "--collected-at", "yesterday", check=False)
        assert result.returncode == 2
        assert "ISO 8601" in result.stderr


class TestProofs:
    def test_proof_bundle_verifies_offline(self, instance, tmp_path):
        make_jpeg(tmp_path / "in" / "a.jpg", 1)
        make_jpeg(tmp_path / "in" / "b.jpg", 2)
        lines = json_lines(svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "C",
                                  "--json").stdout)
        item = lines[0]["item"]
        bundle = svidok(instance, "log", "proof", item, "--json").stdout
        (tmp_path / "bundle.json").write_text(bundle)
        key = json.loads(svidok(instance, "log", "key", "--json").stdout)["public_key"]
        env = {k: v for k, v in instance.items() if k != "SVIDOK_HOME"}
        checked = svidok(env, "log", "check", str(tmp_path / "bundle.json"),
                         "--public-key", key, "--json")
        assert json.loads(checked.stdout)["ok"] is True
        # the same by SHA-256 prefix
        assert svidok(instance, "log", "proof", lines[0]["sha256"][:12]).returncode == 0

    def test_tampered_bundle_fails_check(self, instance, tmp_path):
        make_jpeg(tmp_path / "a.jpg", 1)
        item = json_lines(svidok(instance, "ingest", str(tmp_path / "a.jpg"), "--collection",
                                 "C", "--json").stdout)[0]["item"]
        bundle = json.loads(svidok(instance, "log", "proof", item, "--json").stdout)
        bundle["events"][0]["event"] = bundle["events"][0]["event"].replace("item.", "item_")
        (tmp_path / "bundle.json").write_text(json.dumps(bundle))
        result = svidok(instance, "log", "check", str(tmp_path / "bundle.json"), check=False)
        assert result.returncode == 2

    def test_consistency(self, instance, tmp_path):
        make_jpeg(tmp_path / "a.jpg", 1)
        svidok(instance, "ingest", str(tmp_path / "a.jpg"), "--collection", "C")
        old = json.loads(svidok(instance, "log", "head", "--json").stdout)["size"]
        make_jpeg(tmp_path / "b.jpg", 2)
        svidok(instance, "ingest", str(tmp_path / "b.jpg"), "--collection", "C")
        result = json.loads(svidok(instance, "log", "consistency", str(old), "--json").stdout)
        assert result["old_size"] == old and result["new_size"] > old
        assert result["proof"]

    def test_unknown_item(self, instance):
        result = svidok(instance, "log", "proof", "0" * 16, check=False)
        assert result.returncode == 2 and "no item" in result.stderr


class TestConcurrencyAndCrashes:
    def test_two_ingests_at_once_land_in_one_consistent_tree(self, instance, tmp_path):
        for n in range(24):
            make_jpeg(tmp_path / "a" / f"{n}.jpg", n)
            make_jpeg(tmp_path / "b" / f"{n}.jpg", 100 + n)
        procs = [
            subprocess.Popen([*SVIDOK, "ingest", str(tmp_path / folder), "--collection", "C",
                              "--json"], env=instance, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for folder in ("a", "b")
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        report = json.loads(svidok(instance, "verify", "--json").stdout)
        assert report["ok"], report["problems"]
        assert report["items"] == 48

    # 400 files take a few seconds, so each kill point falls well inside the run.
    @pytest.mark.parametrize("kill_after_lines", [0, 40, 200])
    def test_kill_9_during_ingest_then_verify_then_reingest(self, instance, tmp_path,
                                                             kill_after_lines):
        folder = tmp_path / "many"
        total = 400
        for n in range(total):
            make_jpeg(folder / f"{n:03}.jpg", n, size=(320, 240))
        proc = subprocess.Popen([*SVIDOK, "ingest", str(folder), "--collection", "C", "--json"],
                                env=instance, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        if kill_after_lines == 0:
            time.sleep(0.3)  # during start-up or the first batch
        deadline = time.monotonic() + 120
        seen = 0
        while seen < kill_after_lines and time.monotonic() < deadline:
            if not proc.stdout.readline():
                break
            seen += 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        report = json.loads(svidok(instance, "verify", "--json").stdout)
        assert report["ok"], report["problems"]
        landed = report["items"]
        assert landed < total
        rerun = json_lines(svidok(instance, "ingest", str(folder), "--collection", "C",
                                  "--json").stdout)
        summary = rerun[-1]["summary"]
        assert summary["new"] == total - landed
        assert summary["duplicate"] == landed
        report = json.loads(svidok(instance, "verify", "--json").stdout)
        assert report["ok"], report["problems"]
        assert report["items"] == total
        # and a third run adds nothing
        third = json_lines(svidok(instance, "ingest", str(folder), "--collection", "C",
                                  "--json").stdout)[-1]["summary"]
        assert third["new"] == 0
        events = json.loads(svidok(instance, "verify", "--json").stdout)["events"]
        assert events == report["events"]


class TestUserCommands:
    def test_add_grant_list_revoke_disable(self, instance, tmp_path):
        make_jpeg(tmp_path / "a.jpg", 1)
        svidok(instance, "ingest", str(tmp_path / "a.jpg"), "--collection", "Field")
        result = subprocess.run([*SVIDOK, "user", "add", "olena", "--password-stdin"],
                                env=instance, input="correct horse battery staple\n",
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        svidok(instance, "user", "grant", "olena", "Field", "verifier")
        users = json.loads(svidok(instance, "user", "list", "--json").stdout)
        assert users == [{"username": "olena", "active": True, "admin": False,
                          "roles": {"Field": "verifier"}}]
        svidok(instance, "user", "revoke", "olena", "Field")
        svidok(instance, "user", "disable", "olena")
        users = json.loads(svidok(instance, "user", "list", "--json").stdout)
        assert users[0]["active"] is False and users[0]["roles"] == {}

    def test_weak_password_and_unknown_role_are_refused(self, instance):
        result = subprocess.run([*SVIDOK, "user", "add", "olena", "--password-stdin"],
                                env=instance, input="short\n", capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2 and "password refused" in result.stderr
        bad = svidok(instance, "user", "grant", "olena", "Field", "god", check=False)
        assert bad.returncode == 2 and "'god' is not one of" in bad.stderr

    def test_tokens_made_listed_revoked(self, instance):
        subprocess.run([*SVIDOK, "user", "add", "olena", "--password-stdin"], env=instance,
                       input="correct horse battery staple\n", check=True, timeout=60,
                       capture_output=True, text=True)
        made = json.loads(svidok(instance, "user", "token", "create", "olena", "--name", "ci",
                                 "--json").stdout)
        assert made["token"].startswith(made["prefix"]) and len(made["token"]) > 40
        listed = json.loads(svidok(instance, "user", "token", "list", "olena", "--json").stdout)
        assert [(t["prefix"], t["revoked"]) for t in listed] == [(made["prefix"], False)]
        assert made["token"] not in json.dumps(listed)
        svidok(instance, "user", "token", "revoke", "olena", made["prefix"])
        listed = json.loads(svidok(instance, "user", "token", "list", "olena", "--json").stdout)
        assert listed[0]["revoked"] is True


def test_source_person_from_stdin_is_sealed_and_verify_passes(instance, tmp_path):
    make_jpeg(tmp_path / "w.jpg", 5)
    result = subprocess.run(
        [*SVIDOK, "ingest", str(tmp_path / "w.jpg"), "--collection", "Field",
         "--source-person-stdin", "--json"],
        env=instance, input="Synthetic Witness Q\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Synthetic" not in result.stdout + result.stderr
    home = Path(instance["SVIDOK_HOME"])
    assert (home / "keys" / "fields.key").stat().st_mode & 0o777 == 0o600
    if not instance.get("SVIDOK_DATABASE_URL"):
        assert b"Synthetic Witness Q" not in (home / "svidok.sqlite3").read_bytes()
    assert json.loads(svidok(instance, "verify", "--json").stdout.splitlines()[-1])["ok"]
