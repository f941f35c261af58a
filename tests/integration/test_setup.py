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
