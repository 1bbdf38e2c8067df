from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sk-local")
first = client.responses.create(model="default", input="Hello", instructions="Be brief.")
print(first.output_text)
again = client.responses.create(model="default", input="And then?", previous_response_id=first.id)
with client.responses.stream(model="default", input="Tell me more") as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
print()
