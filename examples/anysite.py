import asyncio

from chatbridge import AnySite

# Any AI Power or AI Engine site; try it with `chatbridge site --port 8080`
# (or `chatbridge site --plugin ai-engine --port 8080`).
SITE = "http://127.0.0.1:8080"


async def main():
    messages = [{"role": "user", "content": "Hello, which plugin runs this site?"}]
    print(await AnySite.create_async("", messages, site_url=SITE))


if __name__ == "__main__":
    asyncio.run(main())
