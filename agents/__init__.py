"""The agent side: the enrichment service and the planners that judge events (rules, or an LLM through tools
bound to one account), over the model and memory ports. Knows no Kafka.

    enrichment.py   the service the Kafka layer calls: privacy gate, already judged, dry runs, then the planner
    planners/       the planner port and its adapters (rules: batch writes on cached state; agent: the tool loop)
    models/         the model port and its adapters (OpenAI-compatible, behind the adaptive limiter)
    rules/          the offline rules engine: language, lexicons, signals, judgment, the rules model, baselines
    tools.py        the LLM's tools, bound to one event's account
    notes.py        the note schema and its one writer
    factory.py      builds the configured model and planner
    deletion.py, export.py, accounts.py    forgetting, exports and account reports over the same stores
"""
