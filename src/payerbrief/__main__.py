"""`python -m payerbrief` runs the command line."""

from payerbrief.cli import main

main()
