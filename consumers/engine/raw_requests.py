"""The one place the project uses a private part of aiokafka: sending a request its admin client has no working
public method for. aiokafka's `Request` classes are its public way to describe a request; sending one is not
(`AIOKafkaAdminClient._send_request`). Two requests need it:

* DescribeGroups, for `ticket-enricher status` (who holds which partition): aiokafka 0.14's public
  `describe_consumer_groups` negotiates v3 with current brokers but decodes the answer with the v2 schema (no
  `authorized_operations`), which fails. `DescribeGroupsUpToV2` offers only v0-v2, which it decodes rightly.
* CreateAcls, for `ticket-enricher acls --apply`: the admin client has no ACL methods
  (`consumers.operations.acls` builds the request).

When aiokafka decodes DescribeGroups v3 and has ACL methods, use those and delete this module.
"""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import DescribeGroupsRequest_v0, DescribeGroupsRequest_v1, DescribeGroupsRequest_v2
from aiokafka.protocol.api import Request


class DescribeGroupsUpToV2(Request[DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2]):
    """DescribeGroups in the versions aiokafka 0.14 decodes (it offers these to the broker, nothing newer)."""

    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: Any) -> Any:
        return request_struct_class(self._groups)


async def send(admin: AIOKafkaAdminClient, request: Request[Any], node_id: int | None = None) -> Any:
    """Send `request` to `node_id` (a random broker when None) over `admin`'s connections; the decoded answer."""
    return await admin._send_request(request, node_id)


async def describe_group(admin: AIOKafkaAdminClient, group: str) -> list[tuple[Any, ...]]:
    """The raw DescribeGroups rows of `group`, asked of its coordinator: (error, name, state, protocol type,
    protocol, members) with members as (member id, client id, host, metadata, assignment)."""
    node = await admin.find_coordinator(group)
    response = await send(admin, DescribeGroupsUpToV2([group]), node)
    return list(response.groups)
