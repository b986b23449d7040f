# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _

from odoo.addons.component.core import Component
from odoo.addons.connector.exception import MappingError

from ...protocol import CoffeeNotFound
from .mapper import BEVERAGE_MODEL, CONSUMER_MODEL, BrewDependencies


class CoffeeBrewImporter(Component):
    """Import one brew, its beverage and its consumer first when unknown.

    The version's mapper says which fields of the brew name them. What is
    found or imported is kept in ``dependencies`` (a ``BrewDependencies``)
    for as long as the importer lives, and given to the mapper.
    """

    _name = 'coffee.brew.importer'
    _inherit = 'coffee.importer'
    _apply_on = 'coffee.brew'

    # False: look the beverage and consumer up in Odoo only (log files)
    _fetch_dependencies = True

    def __init__(self, work_context):
        super(CoffeeBrewImporter, self).__init__(work_context)
        self.dependencies = BrewDependencies()

    def _undo_on_failure(self):
        return self.dependencies.undo_on_failure()

    def _map_options(self):
        return {'dependencies': self.dependencies}

    def _must_skip(self, binding):
        if not super(CoffeeBrewImporter, self)._must_skip(binding):
            return False
        # a brew imported without its consumer (unknown then, e.g. from a
        # log file) is linked once the consumer is known
        if binding.consumer_ref and not binding.partner_id:
            return not self._bound_id(CONSUMER_MODEL, binding.consumer_ref)
        return True

    def _bound_id(self, binding_model, external_id):
        """The Odoo id bound to ``external_id``, 0 when none is known."""
        found = self.dependencies.get(binding_model, external_id)
        if found is None:
            self.dependencies.load(self.env, self.backend_record,
                                   binding_model, [external_id])
            found = self.dependencies.get(binding_model, external_id)
        return found.odoo_id if found else 0

    def _import_dependencies(self):
        for binding_model, ref in self.mapper.references(self.coffee_record):
            self._resolve_dependency(binding_model, ref,
                                     required=binding_model == BEVERAGE_MODEL)

    def _resolve_dependency(self, binding_model, external_id,
                            required=False):
        """Find (or import) what the brew points to, once per importer."""
        dependencies = self.dependencies
        if dependencies.get(binding_model, external_id) is not None or \
                self._bound_id(binding_model, external_id):
            return
        if not self._fetch_dependencies:
            dependencies.put(binding_model, external_id)
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
            dependencies.put(binding_model, external_id)
            return
        record = self.binder_for(binding_model).unwrap_binding(binding) \
            if binding else None
        dependencies.put(binding_model, external_id,
                         record.id if record else 0,
                         record.name if record else False)

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

    def _prefetch(self, records, importer):
        """The beverages and consumers the chunk's brews name, and their
        names, in one query per model instead of a few per beverage and
        consumer: the lookups the brews would make, made for all of them.

        Only what is found is kept: what is not bound yet is imported by
        the first brew that needs it, as without this.
        """
        dependencies = importer.dependencies
        refs = {BEVERAGE_MODEL: set(), CONSUMER_MODEL: set()}
        for record in records:
            try:
                references = importer.mapper.references(record)
            except MappingError:
                continue  # the brew's import says why
            for binding_model, ref in references:
                if dependencies.get(binding_model, ref) is None:
                    refs[binding_model].add(ref)
        for binding_model, external_ids in sorted(refs.items()):
            if external_ids:
                dependencies.load(self.env, self.backend_record,
                                  binding_model, external_ids)
