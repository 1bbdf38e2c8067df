from chatbridge import Client

client = Client(routes={
    "default": [
        {"provider": "AIPower", "site_url": "https://site-one.example"},
        {"provider": "OpenAICompatible", "base_url": "http://127.0.0.1:8000/v1",
         "model": "llama3.2", "continues_prefill": True},
    ],
})
