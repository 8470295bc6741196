"""Agno AgentOS's JSON: the `*_map` modules map sessions, runs, messages, tools, memories and
components both ways; `wire` holds the shared conventions (epoch times, metrics, nulls) and
`schemas` the request bodies AgentOS accepts. Import the submodules you need.
"""
