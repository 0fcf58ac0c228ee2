"""Loopback fakes for what a real server cannot be made to do, shared by the tests and the benchmarks: real HTTP
servers speaking the documented protocols (an OpenAI-compatible chat API with scripted turns, 429s and broken
answers; Mem0 Platform, checked against its published OpenAPI spec), and an in-memory publisher.

    http.py            the loopback HTTP server: routes, a request log, injected statuses and delays
    openai_server.py   FakeOpenAI: chat completions and embeddings from a script
    mem0_server.py     FakeMem0: Mem0 Platform's REST API with its documented behaviour
    contract.py        recorded requests checked against `contracts/mem0-platform-openapi.json`
    publisher.py       MemoryPublisher: the Publisher port in memory

`contract.py` needs `openapi-core` (the `testing` extra).
"""
