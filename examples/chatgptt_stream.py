import asyncio

from chatbridge import ChatGptt

# Any site running the AI Power plugin; try it with `chatbridge site --port 8080`.
ChatGptt.url = "http://127.0.0.1:8080"


async def main():
    messages = [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "Hello, how are you?"},
    ]
    async for chunk in ChatGptt.create_async_generator(model="gpt-4o", messages=messages):
        print(chunk, end="", flush=True)
    print()


if __name__ == "__main__":
    asyncio.run(main())
