from . import common
from . import adapter
from . import mapper
from . import importer
from . import csv_importer
from . import command
