"""``python -m chatbridge.upstream``."""

from ._main import main

main()
