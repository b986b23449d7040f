# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _

from odoo.addons.component.core import Component
from odoo.addons.connector.exception import MappingError

from ...protocol import CoffeeNotFound
from .mapper import BEVERAGE_MODEL, CONSUMER_MODEL, dependency_cache


class CoffeeBrewImporter(Component):
    """Import one brew, its beverage and its consumer first when unknown.

    The version's mapper says which fields of the brew name them.
    """

    _name = 'coffee.brew.importer'
    _inherit = 'coffee.importer'
    _apply_on = 'coffee.brew'

    # False: look the beverage and consumer up in Odoo only (log files)
    _fetch_dependencies = True

    def run(self, external_id=None, record=None, force=False, binding=None):
        cache = dependency_cache(self)
        known = set(cache)
        try:
            return super(CoffeeBrewImporter, self).run(
                external_id=external_id, record=record, force=force,
                binding=binding)
        except Exception:
            # what this brew imported is rolled back with its savepoint:
            # the ids it cached may not exist any more
            for key in set(cache) - known:
                del cache[key]
            raise

    def _must_skip(self, binding):
        if not super(CoffeeBrewImporter, self)._must_skip(binding):
            return False
        # a brew imported without its consumer (unknown then, e.g. from a
        # log file) is linked once the consumer is known
        if binding.consumer_ref and not binding.partner_id:
            return not self.mapper.dependency(CONSUMER_MODEL,
                                              binding.consumer_ref)
        return True

    def _import_dependencies(self):
        record = self.coffee_record
        beverage_ref = self.mapper.beverage_ref(record)
        self._resolve_dependency(BEVERAGE_MODEL, beverage_ref, required=True)
        consumer_ref = self.mapper.consumer_ref(record)
        if consumer_ref:
            self._resolve_dependency(CONSUMER_MODEL, consumer_ref)

    def _resolve_dependency(self, binding_model, external_id,
                            required=False):
        """Find (or import) what the brew points to, once per job."""
        cache = dependency_cache(self)
        key = (binding_model, external_id)
        if key in cache:
            return
        if self.mapper.dependency(binding_model, external_id):
            return  # cached by the lookup
        if not self._fetch_dependencies:
            cache[key] = 0
            return
        try:
            binding = self._import_dependency(external_id, binding_model)
        except CoffeeNotFound:
            if required:
                raise MappingError(
                    _('%(model)s %(ref)s is unknown to the machine') % {
                        'model': self.env[binding_model]._description,
                        'ref': external_id})
            # a consumer removed from the machine: its cups stay, without
            # a partner
            cache[key] = 0
            return
        binder = self.binder_for(binding_model)
        cache[key] = binder.unwrap_binding(binding).id if binding else 0

    def _after_import(self, binding):
        """A brew has no translated texts: skip the languages lookup."""


class Coffee1900BrewCsvRecordImporter(Component):
    """A line of a 1900 log file: nothing is fetched from the machine.

    The file may come from a machine that is not on the network: a line
    whose drink is not imported is a bad line, a card that is not
    imported leaves the brew without a partner (the card number stays).
    """

    _name = 'coffee.1900.brew.csv.record.importer'
    _inherit = 'coffee.brew.importer'
    _usage = 'csv.record.importer'
    _coffee_version = '1900'
    _fetch_dependencies = False


class CoffeeBrewBatchImporter(Component):
    _name = 'coffee.brew.batch.importer'
    _inherit = 'coffee.batch.importer'
    _apply_on = 'coffee.brew'

    def _prefetch(self, records):
        """The beverages and consumers the chunk's brews name, and their
        names, in one query per model instead of a few per beverage and
        consumer: the lookups the brews would make, made for all of them.

        Only what is found is cached: what is not bound yet is imported
        by the first brew that needs it, as without this.
        """
        mapper = self.component(usage='import.mapper')
        cache = dependency_cache(self)
        refs = {BEVERAGE_MODEL: set(), CONSUMER_MODEL: set()}
        for record in records:
            for model_name, ref_of in ((BEVERAGE_MODEL, mapper.beverage_ref),
                                       (CONSUMER_MODEL, mapper.consumer_ref)):
                try:
                    ref = ref_of(record)
                except MappingError:
                    continue  # the brew's import says why
                if ref and (model_name, ref) not in cache:
                    refs[model_name].add(ref)
        for model_name, external_ids in refs.items():
            if not external_ids:
                continue
            model = self.env[model_name].with_context(active_test=False)
            # not search_read: it would name_get every partner and product
            bindings = model.search(
                [('backend_id', '=', self.backend_record.id),
                 ('coffee_id', 'in', sorted(external_ids))])
            odoo_ids = set()
            for binding in bindings:
                odoo_id = binding.odoo_id.id
                if odoo_id:
                    cache[(model_name, binding.coffee_id)] = odoo_id
                    odoo_ids.add(odoo_id)
            odoo_model = model._fields['odoo_id'].comodel_name
            for row in self.env[odoo_model].browse(sorted(odoo_ids)).read(
                    ['name']):
                cache[('name', odoo_model, row['id'])] = row['name']
