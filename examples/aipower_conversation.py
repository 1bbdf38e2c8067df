import asyncio

from chatbridge import AIPower, Conversation

# Any site running the AI Power plugin; try it with `chatbridge site --port 8080`.
SITE = "http://127.0.0.1:8080"


async def main():
    conversation = Conversation()
    messages = [{"role": "user", "content": "Remember the word 'teal'."}]
    first = await AIPower.create_async("", messages, site_url=SITE, conversation=conversation)
    messages += [
        {"role": "assistant", "content": first},
        {"role": "user", "content": "Which word did I ask you to remember?"},
    ]
    async for chunk in AIPower.create_async_generator(
        "", messages, site_url=SITE, conversation=conversation
    ):
        print(chunk, end="", flush=True)
    print()


if __name__ == "__main__":
    asyncio.run(main())
