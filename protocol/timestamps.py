# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The forms in which the machines write a moment (the contract's table
of differences, "timestamps"): the 1900 in its local time, the 2900 in
UTC."""

#: ``2026-11-20 08:31:12``: naive, in the 1900's time zone (API and log)
TIMESTAMP_FORMAT_1900 = '%Y-%m-%d %H:%M:%S'
#: ``2026-11-20T07:31:12.000000Z``: UTC, microseconds
TIMESTAMP_FORMAT_2900 = '%Y-%m-%dT%H:%M:%S.%fZ'
