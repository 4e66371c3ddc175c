"""``python -m graphinv``: the command line."""

from graphinv.cli import main

main()
