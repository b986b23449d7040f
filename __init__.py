# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from . import components
from . import controllers
from . import models
from . import wizards
from .hooks import uninstall_hook
