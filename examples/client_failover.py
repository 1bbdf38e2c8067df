from chatbridge import Client

client = Client(routes={
    "default": [
        {"provider": "AIPower", "site_url": "http://127.0.0.1:9"},  # nothing listens here
        {"provider": "AIPower", "site_url": "http://127.0.0.1:8080"},
    ],
})
messages = [{"role": "user", "content": "Hello"}]
answer = client.chat.completions.create(model="default", messages=messages)
print(answer.choices[0].message.content)
print("answered by", answer.chatbridge.site, [a.outcome for a in answer.chatbridge.attempts])
for chunk in client.chat.completions.create(model="default", messages=messages, stream=True):
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
