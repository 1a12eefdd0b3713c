"""`python -m chatd.bench`."""

from chatd.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
