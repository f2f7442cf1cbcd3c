"""`python -m contextvec.cli ...` runs the `contextvec` command."""

from contextvec.cli.main import main

main()
