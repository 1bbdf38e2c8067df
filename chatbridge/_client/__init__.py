"""The OpenAI-style client layer: ``Client`` / ``AsyncClient``, routes and the failure policy.

It owns what sits between a caller and the providers: the OpenAI-shaped response models
(``_models``), routes and their TOML config (``_config``), the failure policy as data
(``_policy``), the per-target circuit breakers and cool-downs (``_breaker``, ``_health``,
and ``_fleet`` for breakers shared through a state store), one deadline over many awaits
(``_watchdog``), the router that walks a route's targets and keeps the streaming contract
(``_router``), one attempt at one target (``_attempt``) and one call's bookkeeping
(``_call_state``), and the client classes (``_client``).

It uses the providers only through their public entry points and knows nothing of the
protocol engines beneath them, nor of any server above it.
"""
