"""The AI Engine (Meow Apps, plugin slug ``ai-engine``) protocol engine: pure parsers of its
pages and replies, and one client per site (``_client``). It shares the HTTP layer
(``chatbridge._http``) and the state layer (``chatbridge._state``) with the AI Power engine and
knows nothing of providers, clients, servers or the other engine."""
