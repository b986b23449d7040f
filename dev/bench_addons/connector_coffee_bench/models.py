# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The naive connector pattern, for bin/bench to compare against.

One job walks the machine's listing and queues one job per record; each
of those imports its record alone (its own transaction, its own work
context and HTTP client, its own dependency lookups). The record travels
in the job's arguments, so the per-record job does not even fetch it
again: the baseline is, if anything, flattered. Installed only in the
benchmark's database, never a dependency of connector_coffee.
"""
from odoo import api, models

from odoo.addons.connector_coffee.components.core import job_errors
from odoo.addons.queue_job.job import job


class NaiveImportMixin(models.AbstractModel):
    _name = 'coffee.bench.naive.mixin'

    @job(default_channel='root.coffee')
    @api.model
    def bench_list_per_record(self, backend, limit=None):
        """Walk the pages of the listing; one job per record (the first
        ``limit`` records only, when given)."""
        seen = set()
        with job_errors(), backend.work_on(self._name) as work:
            adapter = work.component(usage='backend.adapter')
            state = {}
            while True:
                records, state, __ = adapter.fetch_page(state)
                for record in records:
                    external_id = adapter.id_of(record)
                    if external_id in seen:
                        continue  # a 1900 page repeats its last second
                    if limit and len(seen) >= limit:
                        break
                    seen.add(external_id)
                    self.with_delay().bench_import_one(backend, record)
                if not state or (limit and len(seen) >= limit):
                    break
        return '%d jobs' % len(seen)

    @job(default_channel='root.coffee')
    @api.model
    def bench_import_one(self, backend, record):
        """Import one record in a job of its own."""
        with job_errors(), backend.work_on(self._name) as work:
            importer = work.component(usage='record.importer')
            binding = importer.run(record=record)
            return binding.id


class CoffeeProduct(models.Model):
    _name = 'coffee.product.product'
    _inherit = ['coffee.product.product', 'coffee.bench.naive.mixin']


class CoffeePartner(models.Model):
    _name = 'coffee.res.partner'
    _inherit = ['coffee.res.partner', 'coffee.bench.naive.mixin']


class CoffeeBrew(models.Model):
    _name = 'coffee.brew'
    _inherit = ['coffee.brew', 'coffee.bench.naive.mixin']


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    @api.multi
    def bench_import_per_record(self, brew_limit=None, model_names=None):
        """Queue the naive import of beverages, consumers and brews (the
        first ``brew_limit`` brews only, when given; only ``model_names``
        when given)."""
        for backend in self:
            for model_name in model_names or (
                    'coffee.product.product', 'coffee.res.partner',
                    'coffee.brew'):
                limit = brew_limit if model_name == 'coffee.brew' else None
                self.env[model_name].with_delay().bench_list_per_record(
                    backend, limit=limit)
        return True
