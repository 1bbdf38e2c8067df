"""The providers: gpt4free's provider framework and every provider built on it.

It owns the framework of the seed documents (``AsyncProvider``, ``AsyncGeneratorProvider``
and what they declare: ``_base``; models and aliases: ``_models``), the registry of providers
by name (``_registry``), and one module per provider over a shared base: ``AIPower`` and the
seed providers ``Chatgpt4o`` and ``ChatGptt`` over the AI Power protocol engine
(``_aipower_base``), ``OpenAICompatible`` over the OpenAI wire format (``_openai_wire``,
``_openai_errors``). It also runs async providers from synchronous code on one private event
loop (``_sync``).

Providers sit over the protocol engines and ``chatbridge._http``; the client uses them only
through their public entry points (``create_async``, ``create_async_generator``).
"""
