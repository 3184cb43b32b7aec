"""Core: agents, turns, quota and policies, in plain Python.

No pygls, lsprotocol or acp imports here: front-ends adapt this layer to a wire.
"""
