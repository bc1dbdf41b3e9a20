"""The project's bottom and its top.

Bottom, the kernel every package may import (it imports none of them): `errors` (the
declarative error hierarchy), `fields` (strict DRF fields), `batching`, `redis_clients`
(every Redis client and timeout), `env` (the strict environment reader).

`config.rest`, the REST kit (envelope, pagination, parameters, parsers, the relayed flag),
sits above the event layer (`relay.stream`) and below the domain apps.

Top, the only modules that import everything: `settings`, `urls`, `asgi`, `wsgi`, and the
few views and server hooks they wire in (`views`, `health`, `http`).
"""
