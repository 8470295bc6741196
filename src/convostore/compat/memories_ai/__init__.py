"""memories.ai's JSON: `mapping` translates sessions, messages and evidence both ways; `envelope`
decides the `{code, msg, data, success, failed}` reply and the code for each domain error.
"""
