"""The ``chatbridge`` command: a thin layer over the library.

It owns argument parsing and dispatch (``_main``, ``_commands``), one module per command
(``chat``, ``check``, ``demo``, ``providers``, ``serve``, ``site``: ``_*_cmd``), what the
commands share (which provider, site or route a command talks to and the checks of its
options: ``_options``; asking once, streamed or whole: ``_ask``; a probe of a site: ``_probe``;
one turn of a conversation and the terminal conversation itself: ``_turn``, ``_repl``), and
the exit codes and one-line errors (``_errors``), with the terminal output (``_output``,
``_spinner``).

It talks to sites through the providers and the client, starts the server and the local
sites, and holds no protocol logic of its own.
"""
