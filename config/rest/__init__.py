"""The REST kit every app's API is built with: the response envelope and its errors,
cursor pagination, query and path parameters, the JSON parser, and the `relayed` flag of a
request whose events could not be published. Above `relay.stream`, below the domain apps."""
