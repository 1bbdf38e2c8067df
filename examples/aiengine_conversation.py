import asyncio

from chatbridge import AIEngine, Conversation, Usage

# Any site running the AI Engine plugin; try it with
# `chatbridge site --plugin ai-engine --port 8080`.
SITE = "http://127.0.0.1:8080"


async def main():
    conversation = Conversation()
    messages = [{"role": "user", "content": "Remember the word 'teal'."}]
    first = await AIEngine.create_async("", messages, site_url=SITE, conversation=conversation)
    messages += [
        {"role": "assistant", "content": first},
        {"role": "user", "content": "Which word did I ask you to remember?"},
    ]
    async for chunk in AIEngine.create_async_generator(
        "", messages, site_url=SITE, conversation=conversation
    ):
        if isinstance(chunk, Usage):
            print(f"\n({chunk.total_tokens} tokens, as the site counted them)")
        else:
            print(chunk, end="", flush=True)
    print()


if __name__ == "__main__":
    asyncio.run(main())
