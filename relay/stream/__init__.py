"""The event layer: every stateful event, numbered, stored and published.

Below the domain apps (which import only this package) and above the kernel in
`config/`: it imports none of the apps. `events` builds the frames (`catalogue`
describes them) and `topics` names where they go; `publish` queues them in the
action's transaction and sends them once it has committed; `numbering` numbers and
stores them as the transaction commits (called by the database `backends`); `read`
reads the stream back; `layers` and `presence` are the channel layers and who is online.
"""
