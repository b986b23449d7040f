from . import common
from . import adapter
from . import mapper
from . import importer
from . import exporter
from . import listener
