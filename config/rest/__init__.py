"""The REST kit every app's API is built with: the response envelope and its errors,
cursor pagination, query and path parameters, the JSON parser, and the middleware that sends
what a request committed and flags it `relayed: false` when that could not be published.
Above `relay.stream`, below the domain apps."""
