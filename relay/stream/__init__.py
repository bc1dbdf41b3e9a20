"""The event layer: every stateful event, numbered, stored and published.

Below the domain apps (which import only this package) and above the kernel in
`config/`: it imports none of the apps. `publish` writes the stream (inside the
action's transaction), `read` reads it back, `events` builds the frames,
`layers` and `presence` are the channel layers and who is online.
"""
