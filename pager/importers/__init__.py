"""`pager import`: schedules, escalation policies, people and services from the on-call
products teams move from, read from their documented APIs (or responses saved from them), as
rotation files `pager check` accepts, with a report of what could not be carried over.

One module per product parses its API's answers into a `plan.Plan`; `writing` turns a plan
into YAML and the report, and checks the result against the product's own rendered shifts.
"""
