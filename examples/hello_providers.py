import asyncio
from chatbridge import AIPower, Chatgpt4o, ChatGptt

SITE = "http://127.0.0.1:8080"

async def main():
    messages = [{"role": "user", "content": "Hello, how are you?"}]
    # The seed providers keep gpt4free's API; their own sites are gone (working = False),
    # so point them at a site first. Setting url retargets page, endpoint and tokens.
    Chatgpt4o.url = ChatGptt.url = SITE
    print(await Chatgpt4o.create_async(model="gpt-4o-mini", messages=messages))
    async for chunk in ChatGptt.create_async_generator(model="gpt-4o", messages=messages):
        print(chunk, end="", flush=True)
    print()
    # Or name the site per call with the generic provider:
    print(await AIPower.create_async(model="", messages=messages, site_url=SITE))

asyncio.run(main())
