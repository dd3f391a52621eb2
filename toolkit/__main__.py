"""`python -m toolkit`: the same command line as the `factkit` script."""

from toolkit.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
