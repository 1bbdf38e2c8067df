import asyncio

from chatbridge import FinishReason, OpenAICompatible, Usage

# Any OpenAI-compatible endpoint: Ollama, vLLM, LM Studio, llama.cpp's server, a paid API.
# Try it with the fake one: `python -m chatbridge.upstream --port 8000`.
BASE_URL = "http://127.0.0.1:8000/v1"


async def main():
    messages = [{"role": "user", "content": "Name three trees."}]
    async for chunk in OpenAICompatible.create_async_generator(
        "fake-model", messages, base_url=BASE_URL, api_key=None, temperature=0.2
    ):
        if isinstance(chunk, str):
            print(chunk, end="", flush=True)
        elif isinstance(chunk, FinishReason):
            print(f"\n(finish reason: {chunk.reason})")
        elif isinstance(chunk, Usage):
            print(f"(tokens: {chunk.prompt_tokens} in, {chunk.completion_tokens} out)")
    # Not streamed, text only:
    print(await OpenAICompatible.create_async("fake-model", messages, base_url=BASE_URL,
                                              stream=False))


if __name__ == "__main__":
    asyncio.run(main())
