from . import core
from . import backend_adapter
from . import binder
from . import mapper
from . import importer
from . import exporter
from . import deleter
from . import listener
