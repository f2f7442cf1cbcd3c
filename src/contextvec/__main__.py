"""`python -m contextvec ...` runs the `contextvec` command."""

from contextvec.cli.main import main

main()
