"""What operators use: HTTP endpoints, consumer lag, status, DLQ tools, topics, ACLs, the AsyncAPI document."""
