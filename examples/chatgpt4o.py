import asyncio

from chatbridge import Chatgpt4o

# Any site running the AI Power plugin; try it with `chatbridge site --port 8080`.
Chatgpt4o.url = "http://127.0.0.1:8080"


async def main():
    messages = [{"role": "user", "content": "Hello, how are you?"}]
    response = await Chatgpt4o.create_async(model="gpt-4o-mini", messages=messages)
    print(response)


if __name__ == "__main__":
    asyncio.run(main())
