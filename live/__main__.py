"""`python -m live` is the same as the `latentstage` command."""
from live.cli import main

raise SystemExit(main())
