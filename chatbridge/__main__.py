"""``python -m chatbridge``: the command line."""

from chatbridge._cli._main import main

raise SystemExit(main())
