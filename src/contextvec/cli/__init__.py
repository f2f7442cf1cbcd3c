"""The `contextvec` command: one Typer app (cli.main) with a module per group of sub-commands.

The CLI imports everything and nothing imports it.
"""
