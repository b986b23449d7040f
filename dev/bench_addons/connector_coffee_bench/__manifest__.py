# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    'name': 'Coffee Connector Benchmark Baseline',
    'summary': 'bin/bench only: the naive one-job-per-record import',
    'version': '11.0.1.0.0',
    'category': 'Hidden',
    'author': 'Coffee Connector Authors',
    'license': 'AGPL-3',
    'depends': ['connector_coffee'],
    'data': [],
    'installable': True,
    'application': False,
}
