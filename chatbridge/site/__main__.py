"""``python -m chatbridge.site``."""

from ._main import main

main()
