import anthropic

client = anthropic.Anthropic(base_url="http://127.0.0.1:8000", api_key="sk-local")
message = client.messages.create(
    model="default", max_tokens=1024, messages=[{"role": "user", "content": "Hello"}]
)
print(message.content[0].text)
with client.messages.stream(
    model="default", max_tokens=1024, messages=[{"role": "user", "content": "More"}]
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)
print()
