"""chatbridge: web chat services behind one async API.

The public names live in private modules and are listed once, in ``__init__.pyi``: type
checkers read that stub, and at run time each name is imported from its module on first use
(``lazy_loader`` reads the same stub), so ``import chatbridge`` stays fast and touches no
network. ``__all__`` is the stub's names, sorted.
"""

import lazy_loader

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
