"""`python -m toolkit`: the same command line as the `factkit` script."""

from toolkit.cli.main import entry

if __name__ == "__main__":
    entry()
