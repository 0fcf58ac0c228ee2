"""The Kafka side, in three parts that import downwards only (operations -> flows -> engine):

    engine/       fetch, dispatch in order per key, commit exact offsets, rebalance, publish: knows records, keys
                  and handlers, nothing about tickets
    flows/        one module per flow (tickets, deletions, their delay tiers, replay): decode -> call one service
                  -> publish; plus what a record's past means (provenance) and what a failure means (policy)
    operations/   what operators use: HTTP endpoints, lag, status, DLQ tools, topics, ACLs, AsyncAPI

`lifespan.py` builds every client once and closes them; `worker.py` wires the flows' consumers from the routes;
`metrics.py` holds the process-wide Prometheus metrics all three parts report to.
"""
