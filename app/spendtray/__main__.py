"""`python -m spendtray` runs the command line."""

from spendtray.cli.main import main

raise SystemExit(main())
