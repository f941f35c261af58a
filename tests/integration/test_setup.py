"""The setup contract: `make check` runs a private PostgreSQL for the database tools' tests."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = os.environ.get("WAITSCOPE_PGPORT", "54329")


def test_private_postgres_answers():
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", PORT, "-U", "postgres", "-Atc", "show data_directory"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert os.path.realpath(out.stdout.strip()) == os.path.realpath(
        os.path.join(ROOT, "build", "pgdata"))


def test_private_postgres_from_a_private_folder(tmp_path):
    """A clone in a 0700 folder (root's home): the cluster's files must be where its user,
    postgres, can reach them, and go when it stops."""
    clone = tmp_path / "home"
    (clone / "scripts").mkdir(parents=True)
    clone.chmod(0o700)
    tmp_path.chmod(0o700)
    script = clone / "scripts" / "postgres.sh"
    script.write_bytes(open(os.path.join(ROOT, "scripts", "postgres.sh"), "rb").read())
    script.chmod(0o755)
    env = dict(os.environ, WAITSCOPE_PGPORT=str(int(PORT) + 7))
    try:
        start = subprocess.run([str(script), "start"], capture_output=True, text=True,
                               timeout=120, env=env)
        assert start.returncode == 0, start.stderr
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", env["WAITSCOPE_PGPORT"], "-U", "postgres", "-Atc",
             "show data_directory"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        data = out.stdout.strip()
        assert os.path.realpath(data) == os.path.realpath(clone / "build" / "pgdata")
    finally:
        stop = subprocess.run([str(script), "stop"], capture_output=True, text=True,
                              timeout=120, env=env)
    assert stop.returncode == 0, stop.stderr
    assert not os.path.exists(data), f"{data} left behind"
