from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sk-local")
messages = [{"role": "user", "content": "Hello, how are you?"}]
reply = client.chat.completions.create(model="default", messages=messages)
print(reply.choices[0].message.content)
for chunk in client.chat.completions.create(model="default", messages=messages, stream=True):
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
