"""`python -m etl.cli ...`: the same as the `etl` command."""
from etl.cli.main import main

main()
